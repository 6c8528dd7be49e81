package dev.vnet.controller;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.channel.HostState;
import dev.vnet.bgp.PeerConfig;
import dev.vnet.controller.channel.client.AgentChannelClient;
import dev.vnet.controller.cluster.BgpRoutes;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.store.ForwardingConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Controller nodes sharing one store: the API works through any node, each host's agent ends up at its
 * owner and gets its VMs whichever node took the write, and when a node leaves, the writer role and
 * its hosts move to the survivor, whose API and channel go on.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterNodeTest {
    /** One store shared by the nodes of this JVM, as an etcd cluster is shared by real nodes: closing a node leaves it open. */
    private static final class SharedStore extends ForwardingConfigStore {
        final InMemoryConfigStore inner;

        SharedStore() {
            this(new InMemoryConfigStore());
        }

        private SharedStore(InMemoryConfigStore inner) {
            super(inner);
            this.inner = inner;
        }

        @Override
        public void close() {
        }
    }

    @TempDir
    Path directory;
    private final SharedStore store = new SharedStore();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable each : toClose.reversed()) {
            each.close();
        }
        store.inner.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    private ClusterNode node(String id, TlsFiles tls) throws IOException {
        return node(id, "127.0.0.1", tls, null);
    }

    private ClusterNode node(String id, String address, TlsFiles tls, BgpRoutes.Config bgp) throws IOException {
        int agents = freePort();
        int api = freePort();
        ClusterNode node = ClusterNode.start(new ControllerProcess.Options(new InetSocketAddress(address, agents), tls, null,
                new InetSocketAddress(address, api), null, RegistryConfig.defaults(), store),
                new ClusterNode.Identity(id, address + ":" + agents, "http://" + address + ":" + api, bgp));
        toClose.add(node);
        return node;
    }

    private static String api(ClusterNode node) {
        InetSocketAddress address = node.api().tcpAddress().orElseThrow();
        return "http://" + address.getHostString() + ":" + address.getPort();
    }

    private static String agents(ClusterNode node) {
        InetSocketAddress address = node.agentsAddress().orElseThrow();
        return address.getHostString() + ":" + address.getPort();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static String create(ApiClient api, String collection, String kind, Map<String, Object> fields) {
        return api.post(collection, Map.of(kind, fields)).body().path(kind).path("id").asText();
    }

    private static java.util.Set<String> vmNames(AgentChannelClient agent) {
        HostState state = agent.state();
        java.util.Set<String> names = new java.util.TreeSet<>();
        state.attachmentsByVmId().values().forEach(vm -> names.add(vm.vmName()));
        return names;
    }

    @Test
    void theApiWorksThroughAnyNodeAgentsFindTheirOwnersAndASurvivorTakesOverAll() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        Path certs = directory.resolve("certs");
        TlsFiles tls = ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1")), certs);
        ClusterNode a = node("a", tls);
        ClusterNode b = node("b", tls);
        await("both nodes to see each other", () -> a.membership().live().size() == 2 && b.membership().live().size() == 2);
        await("a writer", () -> a.isWriter() != b.isWriter());
        ClusterNode writer = a.isWriter() ? a : b;
        ClusterNode follower = writer == a ? b : a;

        // Two hosts the nodes split between them (rendezvous hashing decides; find one for each node).
        List<String> hosts = new ArrayList<>();
        for (int i = 0; hosts.size() < 2; i++) {
            String host = "host" + i;
            boolean ownedByA = a.membership().owns(host);
            if (hosts.isEmpty() ? ownedByA : !ownedByA) {
                hosts.add(host);
            }
        }
        try (ApiClient api = ApiClient.connect(api(follower))) { // writes through the follower are forwarded
            String network = create(api, "/v2.0/networks", "network", Map.of("name", "blue"));
            create(api, "/v2.0/subnets", "subnet", Map.of("name", "s", "network_id", network, "cidr", "10.0.0.0/24"));
            for (int i = 0; i < hosts.size(); i++) {
                create(api, "/v2.0/hosts", "host", Map.of("name", hosts.get(i), "address", "10.255.0." + (i + 1)));
                create(api, "/v2.0/vms", "vm", Map.of("name", "vm" + i, "host", hosts.get(i), "network_id", network));
            }
            JsonNode vms = api.get("/v2.0/vms").body().path("vms");
            assertThat(vms).hasSize(2);
        }

        List<String> targets = List.of(a.agentsAddress().orElseThrow().getHostString() + ":" + a.agentsAddress().orElseThrow().getPort(),
                "127.0.0.1:" + b.agentsAddress().orElseThrow().getPort());
        AgentChannelClient.Options quick = new AgentChannelClient.Options("test", Duration.ofMillis(50), Duration.ofMillis(500));
        List<AgentChannelClient> agents = new ArrayList<>();
        for (String host : hosts) {
            AgentChannelClient agent = AgentChannelClient.connect(targets, ca.issue(host, List.of(), certs), host, change -> {
            }, quick);
            toClose.add(agent);
            agents.add(agent);
        }
        await("each agent at its owner with its VM", () -> agents.get(0).connected() && agents.get(1).connected()
                && vmNames(agents.get(0)).equals(java.util.Set.of("vm0")) && vmNames(agents.get(1)).equals(java.util.Set.of("vm1")));
        assertThat(agents.get(0).target()).isEqualTo(targets.get(0)); // host owned by a
        assertThat(agents.get(1).target()).isEqualTo(targets.get(1));
        assertThat(agents.get(0).state().routes()).as("both VMs of blue").hasSize(2);

        // --wait through either node: the answer comes once both hosts (one per node) applied the VM.
        for (ClusterNode entry : List.of(follower, writer)) {
            try (ApiClient api = ApiClient.connect(api(entry))) {
                String network = api.get("/v2.0/networks").body().path("networks").get(0).path("id").asText();
                String name = "waited-via-" + entry.membership().self().id();
                var created = api.post("/v2.0/vms?wait=true&timeout=20", Map.of("vm", Map.of("name", name, "host", hosts.get(0),
                        "network_id", network)));
                assertThat(created.header("X-Vnet-Sync")).contains("complete");
                assertThat(vmNames(agents.get(0))).as("the VM's own host, as soon as --wait returns").contains(name);
                assertThat(agents.get(1).state().routes().values()).as("the other host has its route already")
                        .anyMatch(route -> route.vmId().equals(created.body().path("vm").path("id").asText()));
                var deleted = api.delete("/v2.0/vms/" + created.body().path("vm").path("id").asText() + "?wait=true&timeout=20");
                assertThat(deleted.header("X-Vnet-Sync")).contains("complete");
                assertThat(vmNames(agents.get(0))).doesNotContain(name);
            }
        }

        // The writer leaves: the follower becomes the writer and the leaver's host's agent moves to it.
        int leaverIndex = writer == a ? 0 : 1;
        String survivorTarget = targets.get(1 - leaverIndex);
        writer.close();
        toClose.remove(writer);
        await("the survivor to be the writer", follower::isWriter);
        await("the leaver's agent to reach the survivor", () -> agents.get(leaverIndex).connected()
                && agents.get(leaverIndex).target().equals(survivorTarget));
        assertThat(vmNames(agents.get(leaverIndex))).containsExactly("vm" + leaverIndex);

        // Writes go on through the survivor and reach both agents, now all its own.
        try (ApiClient api = ApiClient.connect(api(follower))) {
            String network = api.get("/v2.0/networks").body().path("networks").get(0).path("id").asText();
            api.post("/v2.0/vms", Map.of("vm", Map.of("name", "vm2", "host", hosts.get(leaverIndex), "network_id", network)));
        }
        await("the new VM at its host", () -> vmNames(agents.get(leaverIndex)).contains("vm2"));
        await("its route at the other host", () -> agents.get(1 - leaverIndex).state().routes().size() == 3);
    }

    @Test
    void withBgpTheNodesExchangeTheirHostsRoutesAsVpnRoutesAndAHostGetsOnlyItsNetworks() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        Path certs = directory.resolve("certs");
        TlsFiles tls = ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("127.0.0.2")), certs);
        int bgpPort = freePort();
        InetSocketAddress bgpA = new InetSocketAddress("127.0.0.1", bgpPort);
        InetSocketAddress bgpB = new InetSocketAddress("127.0.0.2", bgpPort);
        ClusterNode a = node("a", "127.0.0.1", tls, new BgpRoutes.Config(BgpRoutes.DEFAULT_AS, bgpA,
                List.of(PeerConfig.of(bgpB, BgpRoutes.DEFAULT_AS))));
        ClusterNode b = node("b", "127.0.0.2", tls, new BgpRoutes.Config(BgpRoutes.DEFAULT_AS, bgpB,
                List.of(PeerConfig.of(bgpA, BgpRoutes.DEFAULT_AS))));
        await("both nodes to see each other", () -> a.membership().live().size() == 2 && b.membership().live().size() == 2);
        await("a writer", () -> a.isWriter() != b.isWriter());
        await("the BGP session", () -> a.bgp().orElseThrow().peers().getFirst().state() == dev.vnet.bgp.session.SessionState.ESTABLISHED);

        // Three hosts: one of each node's in blue; the third (either node's) only in red.
        List<String> hosts = new ArrayList<>();
        for (int i = 0; hosts.size() < 2; i++) {
            String host = "host" + i;
            if (hosts.isEmpty() ? a.membership().owns(host) : b.membership().owns(host)) {
                hosts.add(host);
            }
        }
        hosts.add("only-red");
        try (ApiClient api = ApiClient.connect(api(a))) {
            String blue = create(api, "/v2.0/networks", "network", Map.of("name", "blue"));
            create(api, "/v2.0/subnets", "subnet", Map.of("name", "s", "network_id", blue, "cidr", "10.0.0.0/24"));
            String red = create(api, "/v2.0/networks", "network", Map.of("name", "red"));
            create(api, "/v2.0/subnets", "subnet", Map.of("name", "s", "network_id", red, "cidr", "10.1.0.0/24"));
            for (int i = 0; i < hosts.size(); i++) {
                create(api, "/v2.0/hosts", "host", Map.of("name", hosts.get(i), "address", "10.255.0." + (i + 1)));
                create(api, "/v2.0/vms", "vm", Map.of("name", "vm" + i, "host", hosts.get(i), "network_id", i < 2 ? blue : red));
            }
        }
        // Routes are learned from the agents: none is originated before an agent reports its VMs set up.
        Thread.sleep(300);
        assertThat(a.bgp().orElseThrow().locRibSize() + b.bgp().orElseThrow().locRibSize()).isZero();

        List<String> targets = List.of(agents(a), agents(b));
        AgentChannelClient.Options quick = new AgentChannelClient.Options("test", Duration.ofMillis(50), Duration.ofMillis(500));
        List<AgentChannelClient> agents = new ArrayList<>();
        for (String host : hosts) {
            AgentChannelClient agent = AgentChannelClient.connect(targets, ca.issue(host, List.of(), certs), host, change -> {
            }, quick);
            toClose.add(agent);
            agents.add(agent);
        }
        // Each blue host learns the other's VM from the other node by BGP: next hop = that host, encapsulation VNP.
        await("blue's routes at both blue hosts", () -> agents.get(0).state().routes().size() == 2 && agents.get(1).state().routes().size() == 2);
        for (AgentChannelClient agent : agents.subList(0, 2)) {
            assertThat(agent.state().routes().values()).allSatisfy(route -> {
                assertThat(route.encapsulation()).isEqualTo("vnp");
                assertThat(route.hostName()).as("learned by BGP, which names no host").isEmpty();
            });
            assertThat(agent.state().routes().values()).extracting(route -> dev.vnet.wire.Ipv4Address.toString(route.hostAddress()))
                    .containsExactlyInAnyOrder("10.255.0.1", "10.255.0.2");
        }
        await("red's route at its host", () -> agents.get(2).state().routes().size() == 1);
        assertThat(agents.get(2).state().routes().values()).allSatisfy(route ->
                assertThat(dev.vnet.wire.Ipv4Address.toString(route.address())).startsWith("10.1.0."));
        await("every VM's route in both nodes' Loc-RIBs", () -> a.bgp().orElseThrow().locRibSize() == 3
                && b.bgp().orElseThrow().locRibSize() == 3);
    }

    @Test
    void aWriterThatLostItsKeyCannotWriteEvenOnce() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        ClusterNode a = node("a", ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1")), directory.resolve("certs")));
        await("a to be the writer", a::isWriter);
        Controller stale = a.controller().orElseThrow();
        stale.createProject("before");

        // Another node takes the key (as after a pause longer than a's lease): a's next write must not land.
        store.put(dev.vnet.controller.cluster.WriterElection.KEY,
                "{\"id\":\"z\",\"agents\":\"127.0.0.1:1\",\"api\":\"http://127.0.0.1:1\",\"protocolVersion\":1}"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        long revision = store.revision();
        // Through the registry it shares with the node (whether or not a has noticed yet: before, the
        // fence's revision no longer matches; after, it has no fence at all).
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> stale.registry().registerHost("late", "10.9.9.9"))
                .isInstanceOf(dev.vnet.controller.cluster.FencedConfigStore.NotWriterException.class);
        assertThat(store.revision()).as("nothing written").isEqualTo(revision);
        await("a to step down", () -> !a.isWriter());
    }
}
