package dev.vnet.controller.channel;

import dev.vnet.controller.channel.client.AgentChannelClient;
import dev.vnet.controller.channel.client.HostStateChange;
import dev.vnet.controller.channel.client.HostStateListener;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.registry.server.RegistryServer;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A controller as the controller process will run it (registry and agent channel on one mutual-TLS
 * port, through {@link RegistryServer}) over an {@link InMemoryDesiredState}, on loopback, with agents
 * that record what they are given. The controller can be stopped and started again on the same port.
 */
final class ChannelFixture implements AutoCloseable {
    static final Duration PATIENCE = Duration.ofSeconds(20);

    final InMemoryDesiredState source = new InMemoryDesiredState();
    private final Path directory;
    private final CertificateAuthority ca;
    private final TlsFiles serverTls;
    private final Map<String, TlsFiles> agentTls = new HashMap<>();
    private final List<RecordingAgent> agents = new ArrayList<>();
    private final InMemoryConfigStore store = new InMemoryConfigStore();
    private int port;
    HostStatePublisher publisher;
    private RegistryServer server;

    ChannelFixture(Path directory) throws IOException {
        this.directory = directory;
        this.ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        this.serverTls = ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1")), directory.resolve("certs"));
    }

    /** Starts the controller (on the port it had before, if it ran before) with its versions starting at {@code version}. */
    void startController(long version) throws IOException {
        publisher = new HostStatePublisher(source, version);
        RegistryService registry = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        server = RegistryServer.start(registry, new InetSocketAddress("127.0.0.1", port), serverTls, null,
                List.of(new AgentChannelService(publisher)));
        port = server.tcpAddress().orElseThrow().getPort();
    }

    /** Stops the controller as a process exit would: every agent's stream ends, the port closes. */
    void stopController() {
        publisher.close();
        server.close();
    }

    String target() {
        return "127.0.0.1:" + port;
    }

    TlsFiles tls(String identity) {
        return agentTls.computeIfAbsent(identity, name -> {
            try {
                return ca.issue(name, List.of(), directory.resolve("certs"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A new agent process for {@code host}: it holds nothing and connects. */
    RecordingAgent agent(String host) throws IOException {
        RecordingAgent agent = new RecordingAgent();
        agent.client = AgentChannelClient.connect(target(), tls(host), host, agent);
        agents.add(agent);
        return agent;
    }

    @Override
    public void close() {
        agents.forEach(agent -> agent.client.close());
        if (server != null) {
            stopController();
        }
        store.close();
    }

    // ---------------------------------------------------------------- test data

    static int address(String dotted) {
        return Ipv4Address.parse(dotted);
    }

    /** A VM of project "p" with a /24, a MAC and key derived from its id. */
    static VmAttachment vm(String id, long network, String address, int hostPort) {
        byte[] key = new byte[VmAttachment.KEY_LENGTH];
        java.util.Arrays.fill(key, (byte) id.hashCode());
        return new VmAttachment(id, "vm-" + id, "p", network, address(address), 24, 0x02564E000000L | (address(address) & 0xFFFFFF), hostPort, key);
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up after " + PATIENCE.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /**
     * An agent that records every change it applied. {@link #onNextApply} runs before the next change is
     * applied (to block or to fail it), once.
     */
    static final class RecordingAgent implements HostStateListener {
        AgentChannelClient client;
        private final BlockingQueue<HostStateChange> applied = new LinkedBlockingQueue<>();
        volatile ThrowingRunnable onNextApply;
        volatile int failures;

        interface ThrowingRunnable {
            void run() throws Exception;
        }

        @Override
        public void apply(HostStateChange change) throws Exception {
            ThrowingRunnable hook = onNextApply;
            onNextApply = null;
            if (hook != null) {
                try {
                    hook.run();
                } catch (Exception e) {
                    failures++;
                    throw e;
                }
            }
            applied.add(change);
        }

        /** The next change this agent applied (waits for it). */
        HostStateChange next() {
            try {
                HostStateChange change = applied.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                if (change == null) {
                    throw new AssertionError("no change applied within " + PATIENCE.toSeconds() + " s; client " + client);
                }
                return change;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        /** Waits until the agent has applied its full snapshot on its current stream. */
        RecordingAgent synced() {
            await("agent to be connected: " + client, client::connected);
            return this;
        }
    }
}
