package dev.vnet.controller;

import dev.vnet.controller.api.ApiServer;
import dev.vnet.controller.channel.AgentChannelService;
import dev.vnet.controller.channel.HostStatePublisher;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.registry.server.RegistryServer;
import dev.vnet.store.ConfigStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The controller as a process ({@code vnet controller}): one config store holding the graph and the
 * registry, the registry's gRPC service and the agent channel on one mutual-TLS listener, and the
 * northbound REST API on TCP and/or a Unix socket. On JVM shutdown it stops the listeners first and
 * closes the store last, so no write is cut off half-way.
 */
public final class ControllerProcess implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerProcess.class);

    /**
     * @param agents      mutual-TLS address for agents (registry tokens and the channel), or null
     * @param tls         the controller's certificate and key and the CA agents' certificates chain to
     * @param adminSocket the registry's admin gRPC socket, or null
     * @param api         REST API TCP address, or null
     * @param apiSocket   REST API Unix socket (mode 0600), or null
     * @param store       the process owns it from here on and closes it when it stops
     */
    public record Options(InetSocketAddress agents, TlsFiles tls, Path adminSocket, InetSocketAddress api, Path apiSocket,
                          RegistryConfig config, ConfigStore store) {
        public Options {
            if (agents != null && tls == null) {
                throw new IllegalArgumentException("the agents' listener needs the TLS files (CA, certificate, key)");
            }
            if (api == null && apiSocket == null) {
                throw new IllegalArgumentException("give the REST API a TCP address, a Unix socket, or both");
            }
        }
    }

    private final ConfigStore store;
    private final Controller controller;
    private final HostStatePublisher publisher;
    private final RegistryServer grpc;
    private final ApiServer api;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private ControllerProcess(ConfigStore store, Controller controller, HostStatePublisher publisher, RegistryServer grpc, ApiServer api) {
        this.store = store;
        this.controller = controller;
        this.publisher = publisher;
        this.grpc = grpc;
        this.api = api;
    }

    /** Starts serving and returns; start-up failures are thrown with the store closed. */
    public static ControllerProcess start(Options options) throws IOException {
        ConfigStore store = options.store();
        HostStatePublisher publisher = null;
        RegistryServer grpc = null;
        try {
            RegistryService registry = new RegistryService(store, RegistryService.STORE_PREFIX, options.config());
            AtomicReference<Controller> controllerRef = new AtomicReference<>();
            publisher = new HostStatePublisher(new RegistryDesiredState(registry, () -> {
                Controller c = controllerRef.get();
                return c == null ? null : c.graph();
            }), store.revision());
            Controller controller = new Controller(store, registry, sinkOf(publisher));
            controllerRef.set(controller);
            if (options.agents() != null || options.adminSocket() != null) {
                grpc = RegistryServer.start(registry, options.agents(), options.tls(), options.adminSocket(),
                        options.agents() == null ? List.of() : List.of(new AgentChannelService(publisher)));
            }
            ApiServer api = ApiServer.start(controller, options.api(), options.apiSocket());
            LOG.info("controller ready: agents on {}, API on {}{}", options.agents(), options.api() == null ? "" : api.tcpAddress().orElse(null) + " ",
                    options.apiSocket() == null ? "" : options.apiSocket());
            return new ControllerProcess(store, controller, publisher, grpc, api);
        } catch (IOException | RuntimeException e) {
            if (grpc != null) {
                grpc.close();
            }
            if (publisher != null) {
                publisher.close();
            }
            store.close();
            throw e;
        }
    }

    /** Serves until the JVM is told to stop. */
    public static void run(Options options) throws IOException, InterruptedException {
        ControllerProcess process = start(options);
        Runtime.getRuntime().addShutdownHook(new Thread(process::close, "controller-shutdown"));
        process.stopped.await();
    }

    /** The agent channel's view of a change: deltas to the touched hosts, acknowledgements to wait for. */
    static HostChangeSink sinkOf(HostStatePublisher publisher) {
        return new HostChangeSink() {
            @Override
            public void publish(long version, Set<String> hosts) {
                publisher.publish(version, hosts);
            }

            @Override
            public void forget(Set<String> hosts) {
                hosts.forEach(publisher::forgetHost);
            }

            @Override
            public SyncStatus awaitApplied(long version, Duration timeout) {
                try {
                    return publisher.awaitApplied(version, timeout);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new SyncStatus(false, List.of("(the wait was interrupted)"));
                }
            }
        };
    }

    public Controller controller() {
        return controller;
    }

    public HostStatePublisher publisher() {
        return publisher;
    }

    public ApiServer api() {
        return api;
    }

    /** The agents' listener, if there is one. */
    public java.util.Optional<InetSocketAddress> agentsAddress() {
        return grpc == null ? java.util.Optional.empty() : grpc.tcpAddress();
    }

    /** Stops the API, the agents' listener and the channel, then closes the store. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            LOG.info("controller stopping");
            api.close();
            publisher.close(); // ends the agents' streams, which the gRPC server would otherwise wait for
            if (grpc != null) {
                grpc.close();
            }
            controller.close();
            store.close();
            LOG.info("controller stopped");
        } finally {
            stopped.countDown();
        }
    }
}
