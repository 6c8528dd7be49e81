package dev.vnet.registry.server;

import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.store.ConfigStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The registry as a process ({@code vnet registry}): loads the state from the store, serves it, and on
 * JVM shutdown (SIGTERM, SIGINT) stops the listeners, lets running calls finish, and only then closes the
 * store, so no mutation is cut off half-written.
 */
public final class RegistryProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegistryProcess.class);

    /**
     * What {@code vnet registry} is run with.
     *
     * @param listen     TCP address for agents and remote admins (mutual TLS), or null; port 0 picks a free one
     * @param tls        server certificate and key, and the CA clients' certificates must chain to; needed with {@code listen}
     * @param unixSocket admin socket path, or null
     * @param config     token TTL, clock skew, VM port range (and the clock)
     * @param store      where the state lives (under {@link RegistryService#STORE_PREFIX}); the process owns it from
     *                   here on and closes it when it stops
     */
    public record Options(InetSocketAddress listen, TlsFiles tls, Path unixSocket, RegistryConfig config, ConfigStore store) {
        public Options {
            if (listen == null && unixSocket == null) {
                throw new IllegalArgumentException("give a TCP listen address, a Unix socket path, or both");
            }
            if (listen != null && tls == null) {
                throw new IllegalArgumentException("a TCP listener needs the TLS files (CA certificate, server certificate and key)");
            }
            if (config == null || store == null) {
                throw new IllegalArgumentException("the registry needs its config and a store");
            }
        }

        /** Default config, no listeners yet: add them with the withers. */
        public static Options of(ConfigStore store, Path unixSocket) {
            return new Options(null, null, unixSocket, RegistryConfig.defaults(), store);
        }

        public Options withTcp(InetSocketAddress address, TlsFiles files) {
            return new Options(address, files, unixSocket, config, store);
        }

        public Options withUnixSocket(Path path) {
            return new Options(listen, tls, path, config, store);
        }

        public Options withConfig(RegistryConfig registryConfig) {
            return new Options(listen, tls, unixSocket, registryConfig, store);
        }
    }

    private final RegistryService registry;
    private final RegistryServer server;
    private final ConfigStore store;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private RegistryProcess(RegistryService registry, RegistryServer server, ConfigStore store) {
        this.registry = registry;
        this.server = server;
        this.store = store;
    }

    /**
     * Serves until the JVM is told to stop, then returns (or the JVM exits first). Start-up failures
     * (an unreadable store record, a TLS file, a busy port or socket) are thrown, and the store closed.
     */
    public static void run(Options options) throws IOException, InterruptedException {
        RegistryProcess process = start(options);
        Thread hook = new Thread(process::close, "registry-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        process.awaitStop();
    }

    /** Starts serving and returns at once; {@link #close} stops. */
    public static RegistryProcess start(Options options) throws IOException {
        try {
            RegistryService registry = new RegistryService(options.store(), RegistryService.STORE_PREFIX, options.config());
            RegistryServer server = RegistryServer.start(registry, options.listen(), options.tls(), options.unixSocket());
            log.info("registry ready: token TTL {}, clock skew {}, VM ports {}-{}",
                    options.config().tokensNeverExpire() ? "never" : options.config().tokenTtl(), options.config().clockSkew(),
                    options.config().firstPort(), options.config().lastPort());
            return new RegistryProcess(registry, server, options.store());
        } catch (IOException | RuntimeException e) {
            options.store().close();
            throw e;
        }
    }

    public RegistryService registry() {
        return registry;
    }

    public RegistryServer server() {
        return server;
    }

    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    private void awaitStopUninterruptibly() {
        boolean interrupted = false;
        while (stopped.getCount() > 0) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the listeners (running calls get a few seconds), then closes the store. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            awaitStopUninterruptibly();
            return;
        }
        try {
            log.info("registry stopping");
            server.close();
            store.close();
            log.info("registry stopped");
        } finally {
            stopped.countDown();
        }
    }
}
