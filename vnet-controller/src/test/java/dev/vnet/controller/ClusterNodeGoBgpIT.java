package dev.vnet.controller;

import dev.vnet.bgp.PeerConfig;
import dev.vnet.bgp.interop.GoBgpd;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.channel.Route;
import dev.vnet.controller.channel.client.AgentChannelClient;
import dev.vnet.controller.cluster.BgpRoutes;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A controller node peering with GoBGP (the Debian package's gobgpd) over eBGP: the VPN-IPv4 routes the
 * node originates for the VMs its hosts' agents report appear in GoBGP's RIB with their RD, route target, label, next hop
 * and encapsulation; a route injected into GoBGP for a network's route target reaches the agent of a host
 * with a VM in that network; withdrawals go both ways.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterNodeGoBgpIT {
    private static final long GOBGP_AS = 65000;

    @TempDir
    Path directory;

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void routesGoBothWaysBetweenANodeAndGoBgp() throws Exception {
        List<Integer> ports = GoBgpd.freePorts(3);
        int bgpPort = ports.get(0);
        GoBgpd.Config gobgpConfig = GoBgpd.Config.of("127.0.0.3", GOBGP_AS, "127.0.0.3")
                .withNeighbor(GoBgpd.Neighbor.of("127.0.0.1", bgpPort, BgpRoutes.DEFAULT_AS));
        CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        Path certs = directory.resolve("certs");
        TlsFiles tls = ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1")), certs);
        try (GoBgpd gobgp = GoBgpd.start(gobgpConfig);
             ClusterNode node = ClusterNode.start(new ControllerProcess.Options(new InetSocketAddress("127.0.0.1", ports.get(1)), tls, null,
                     new InetSocketAddress("127.0.0.1", ports.get(2)), null, RegistryConfig.defaults(), new InMemoryConfigStore()),
                     new ClusterNode.Identity("a", "127.0.0.1:" + ports.get(1), "http://127.0.0.1:" + ports.get(2),
                             new BgpRoutes.Config(BgpRoutes.DEFAULT_AS, new InetSocketAddress("127.0.0.1", bgpPort),
                                     List.of(PeerConfig.of(new InetSocketAddress("127.0.0.3", gobgpConfig.listenPort()), GOBGP_AS)))))) {
            gobgp.awaitEstablished("127.0.0.1", Duration.ofSeconds(40));
            long networkId;
            String vmId;
            try (ApiClient api = ApiClient.connect("http://127.0.0.1:" + ports.get(2))) {
                await("the node to be the writer", node::isWriter);
                String network = api.post("/v2.0/networks", Map.of("network", Map.of("name", "blue"))).body().path("network").path("id").asText();
                networkId = api.get("/v2.0/networks/" + network).body().path("network").path("provider:segmentation_id").asLong();
                api.post("/v2.0/subnets", Map.of("subnet", Map.of("name", "s", "network_id", network, "cidr", "10.0.0.0/24")));
                api.post("/v2.0/hosts", Map.of("host", Map.of("name", "h1", "address", "10.255.0.1")));
                vmId = api.post("/v2.0/vms", Map.of("vm", Map.of("name", "v", "host", "h1", "network_id", network)))
                        .body().path("vm").path("id").asText();
            }

            // The node originates the VM's route once h1's agent reports it has set the VM up.
            AgentChannelClient agent = AgentChannelClient.connect(List.of("127.0.0.1:" + ports.get(1)), ca.issue("h1", List.of(), certs),
                    "h1", change -> {
                    }, new AgentChannelClient.Options("test", Duration.ofMillis(50), Duration.ofMillis(500)));
            // The node's route, as GoBGP sees it.
            await("the VM's route in GoBGP's RIB", () -> rib(gobgp).stream().anyMatch(r -> r.prefix().equals("10.0.0.2/32")));
            GoBgpd.Vpnv4Route seen = rib(gobgp).stream().filter(r -> r.prefix().equals("10.0.0.2/32")).findFirst().orElseThrow();
            assertThat(seen.rd()).isEqualTo("10.255.0.1:" + networkId);
            assertThat(seen.routeTargets()).containsExactly(BgpRoutes.DEFAULT_AS + ":" + networkId);
            assertThat(seen.label()).isEqualTo(networkId);
            assertThat(seen.nextHop()).isEqualTo("10.255.0.1");
            assertThat(seen.encapsulations()).as("VNP's tunnel type, which GoBGP has no name for").hasSize(1);

            try {
                // A route from GoBGP for blue's route target reaches h1's agent.
                gobgp.addVpnv4("65000:7", "10.0.0.99/32", (int) networkId, "10.255.0.50", List.of(BgpRoutes.DEFAULT_AS + ":" + networkId), "vxlan");
                await("GoBGP's route at h1", () -> agent.state().routes().values().stream().anyMatch(r -> r.address() == Ipv4Address.parse("10.0.0.99")));
                Route learned = agent.state().routes().values().stream().filter(r -> r.address() == Ipv4Address.parse("10.0.0.99"))
                        .findFirst().orElseThrow();
                assertThat(Ipv4Address.toString(learned.hostAddress())).isEqualTo("10.255.0.50");
                assertThat(learned.encapsulation()).isEqualTo("vxlan");
                assertThat(learned.networkId()).isEqualTo(networkId);

                // A route for another route target reaches nobody here.
                gobgp.addVpnv4("65000:8", "10.9.0.1/32", 9, "10.255.0.51", List.of(BgpRoutes.DEFAULT_AS + ":9"), null);
                await("the other route in the node's Loc-RIB", () -> node.bgp().orElseThrow().locRibSize() == 3);
                assertThat(agent.state().routes()).hasSize(2);

                // Withdrawals, both ways.
                gobgp.deleteVpnv4("65000:7", "10.0.0.99/32", (int) networkId);
                await("GoBGP's withdrawal at h1", () -> agent.state().routes().size() == 1);
                try (ApiClient api = ApiClient.connect("http://127.0.0.1:" + ports.get(2))) {
                    api.delete("/v2.0/vms/" + vmId);
                }
                await("the node's withdrawal in GoBGP", () -> rib(gobgp).stream().noneMatch(r -> r.prefix().equals("10.0.0.2/32")));
            } finally {
                agent.close();
            }
        }
    }

    private static List<GoBgpd.Vpnv4Route> rib(GoBgpd gobgp) {
        try {
            return gobgp.rib();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
