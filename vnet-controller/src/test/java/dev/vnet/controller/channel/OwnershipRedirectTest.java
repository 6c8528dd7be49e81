package dev.vnet.controller.channel;

import dev.vnet.controller.channel.client.AgentChannelClient;
import dev.vnet.controller.channel.client.HostStateChange;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.registry.server.RegistryServer;
import dev.vnet.store.InMemoryConfigStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.vnet.controller.channel.ChannelFixture.await;
import static dev.vnet.controller.channel.ChannelFixture.vm;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two controller nodes, each serving only the hosts it owns: an agent that reaches the wrong node is
 * sent to the owner, and when the owner dies the agent moves on to the next node, which owns the host
 * by then, and finds its state unchanged.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OwnershipRedirectTest {
    @TempDir
    Path directory;

    private record Node(HostStatePublisher publisher, RegistryServer server, InMemoryConfigStore store) {
        String target() {
            return "127.0.0.1:" + server.tcpAddress().orElseThrow().getPort();
        }

        void stop() {
            publisher.close();
            server.close();
            store.close();
        }
    }

    private Node node(InMemoryDesiredState source, TlsFiles tls, AtomicReference<String> ownerOfEveryHost, AtomicReference<String> self)
            throws Exception {
        HostStatePublisher publisher = new HostStatePublisher(source, 1);
        InMemoryConfigStore store = new InMemoryConfigStore();
        RegistryService registry = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        RegistryServer server = RegistryServer.start(registry, new InetSocketAddress("127.0.0.1", 0), tls, null,
                List.of(new AgentChannelService(publisher, host -> ownerOfEveryHost.get().equals(self.get())
                        ? Optional.empty() : Optional.of(ownerOfEveryHost.get()), (host, routes) -> {
                })));
        Node node = new Node(publisher, server, store);
        self.set(node.target());
        return node;
    }

    @Test
    void anAgentIsSentToItsHostsOwnerAndMovesOnWhenTheOwnerDies() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        TlsFiles serverTls = ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1")), directory.resolve("certs"));
        InMemoryDesiredState source = new InMemoryDesiredState();
        source.putHost("h1", ChannelFixture.address("10.255.0.1"));
        source.putVm("h1", vm("a", 7, "10.0.0.2", 47901));

        AtomicReference<String> owner = new AtomicReference<>("");
        AtomicReference<String> selfA = new AtomicReference<>();
        AtomicReference<String> selfB = new AtomicReference<>();
        Node a = node(source, serverTls, owner, selfA);
        Node b = node(source, serverTls, owner, selfB);
        owner.set(b.target());

        ChannelFixture.RecordingAgent agent = new ChannelFixture.RecordingAgent();
        agent.client = AgentChannelClient.connect(List.of(a.target(), b.target()), ca.issue("h1", List.of(), directory.resolve("certs")),
                "h1", agent, new AgentChannelClient.Options("test", Duration.ofMillis(50), Duration.ofMillis(500)));
        try {
            agent.synced();
            assertThat(agent.client.target()).as("sent from A to the owner").isEqualTo(b.target());
            assertThat(agent.next().current().attachmentsByVmId()).containsKey("a");
            assertThat(b.publisher().connectedHosts()).containsExactly("h1");
            assertThat(a.publisher().connectedHosts()).isEmpty();

            // B dies; by the time its agents come back, the survivors see A as the owner.
            owner.set(a.target());
            b.stop();
            await("the agent to move to A", () -> agent.client.connected() && agent.client.target().equals(a.target()));
            HostStateChange resync = agent.next();
            assertThat(resync.full()).isTrue();
            assertThat(resync.diff().isEmpty()).as("nothing changed, so the resync changes nothing").isTrue();
            assertThat(agent.client.state().attachmentsByVmId()).containsKey("a");
        } finally {
            agent.client.close();
            a.stop();
        }
    }
}
