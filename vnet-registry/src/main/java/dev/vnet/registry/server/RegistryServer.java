package dev.vnet.registry.server;

import dev.vnet.registry.RegistryService;
import dev.vnet.registry.pki.TlsFiles;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Serves a {@link RegistryService} over gRPC on up to two listeners:
 * <ul>
 *   <li>TCP with mutual TLS: the server presents its certificate (the address clients dial must be one of
 *       its IP subject alternative names), requires a client certificate signed by the same CA, and takes
 *       the certificate's CN as the caller's identity.</li>
 *   <li>A Unix domain socket, where every caller is the administrator. It exists because the lab's CLI
 *       runs in the root network namespace while the registry listens inside a namespace: a socket path is
 *       reachable across network namespaces. The socket file is mode 0600, so only the registry's own
 *       user (root in the lab) can connect.</li>
 * </ul>
 *
 * <p>Other services (the controller's agent channel) can share the TCP listener, its certificate and its
 * identity interceptor: see {@link #start(RegistryService, InetSocketAddress, TlsFiles, Path, List)}.
 *
 * <p>The socket file is made by {@link PrivateSocketFile}: mode 0600 from its first moment, a stale one
 * replaced, a live or foreign one refused.
 */
public final class RegistryServer implements AutoCloseable {
    /** sun_path is 108 bytes including the terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = PrivateSocketFile.MAX_SOCKET_PATH_BYTES;
    private static final long GRACEFUL_STOP_SECONDS = 5;
    /**
     * Streams that live for hours (the agent channel) must notice a peer that vanished without closing
     * its connection: the server pings a connection idle this long, and drops it when a ping is not
     * answered in time. Clients may ping as often as every {@value #PERMIT_KEEPALIVE_SECONDS} s (gRPC's
     * default is 5 minutes, and it closes connections that ping more often).
     */
    private static final long KEEPALIVE_TIME_SECONDS = 60;
    private static final long KEEPALIVE_TIMEOUT_SECONDS = 20;
    private static final long PERMIT_KEEPALIVE_SECONDS = 20;

    private static final Logger log = LoggerFactory.getLogger(RegistryServer.class);

    private final Server tcpServer;
    private final Server unixServer;
    private final EventLoopGroup unixEventLoop;
    private final Path unixSocket;
    private final Object unixSocketFileKey;

    private RegistryServer(Server tcpServer, Server unixServer, EventLoopGroup unixEventLoop, Path unixSocket, Object unixSocketFileKey) {
        this.tcpServer = tcpServer;
        this.unixServer = unixServer;
        this.unixEventLoop = unixEventLoop;
        this.unixSocket = unixSocket;
        this.unixSocketFileKey = unixSocketFileKey;
    }

    /**
     * Starts the listeners that are given (at least one).
     *
     * @param tcpAddress where to listen with mutual TLS (port 0: any free port, see {@link #tcpAddress()}), or null
     * @param tls        the server's certificate, key and the CA client certificates must be signed by; needed with TCP
     * @param unixSocket the admin socket's path, or null
     */
    public static RegistryServer start(RegistryService registry, InetSocketAddress tcpAddress, TlsFiles tls, Path unixSocket) throws IOException {
        return start(registry, tcpAddress, tls, unixSocket, List.of());
    }

    /**
     * Starts the listeners that are given (at least one), the TCP one also serving {@code extraServices}
     * (the controller's agent channel, say) behind the same {@link CallerIdentity} interceptor, so that
     * one port and one certificate serve the registry and them. They are not served on the Unix socket,
     * where every caller is the administrator.
     *
     * <p>{@link #close()} waits up to {@value #GRACEFUL_STOP_SECONDS} s for open calls; a service with
     * long-lived streams should end them first.
     *
     * @param extraServices served on TCP only; needs {@code tcpAddress} unless empty
     */
    public static RegistryServer start(RegistryService registry, InetSocketAddress tcpAddress, TlsFiles tls, Path unixSocket,
                                       List<BindableService> extraServices) throws IOException {
        if (!extraServices.isEmpty() && tcpAddress == null) {
            throw new IllegalArgumentException("services besides the registry are served on TCP only; give a TCP address");
        }
        if (tcpAddress == null && unixSocket == null) {
            throw new IllegalArgumentException("the registry needs a TCP address or a Unix socket path to listen on");
        }
        if (tcpAddress != null && tls == null) {
            throw new IllegalArgumentException("listening on TCP needs the TLS files (CA certificate, server certificate and key)");
        }
        RegistryGrpcService service = new RegistryGrpcService(registry);
        Server tcpServer = null;
        if (tcpAddress != null) {
            TlsServerCredentials.Builder credentials = TlsServerCredentials.newBuilder()
                    .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
            try {
                credentials.keyManager(tls.certificate().toFile(), tls.privateKey().toFile()).trustManager(tls.caCertificate().toFile());
            } catch (IOException e) {
                throw new IOException("cannot read the registry's TLS files " + tls + ": " + e.getMessage(), e);
            }
            NettyServerBuilder builder = NettyServerBuilder.forAddress(tcpAddress, credentials.build())
                    .keepAliveTime(KEEPALIVE_TIME_SECONDS, TimeUnit.SECONDS)
                    .keepAliveTimeout(KEEPALIVE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                    .permitKeepAliveTime(PERMIT_KEEPALIVE_SECONDS, TimeUnit.SECONDS)
                    .addService(ServerInterceptors.intercept(service, CallerIdentity.fromClientCertificate()));
            for (BindableService extra : extraServices) {
                builder.addService(ServerInterceptors.intercept(extra, CallerIdentity.fromClientCertificate()));
            }
            tcpServer = builder.build().start();
            log.info("registry listening on {} (mutual TLS)", tcpServer.getListenSockets());
        }
        if (unixSocket == null) {
            return new RegistryServer(tcpServer, null, null, null, null);
        }
        try {
            UnixListener listener = startUnix(service, unixSocket);
            log.info("registry listening on unix socket {} (admin)", unixSocket);
            return new RegistryServer(tcpServer, listener.server, listener.eventLoop, unixSocket, listener.fileKey);
        } catch (IOException | RuntimeException e) {
            if (tcpServer != null) {
                tcpServer.shutdownNow();
            }
            throw e;
        }
    }

    private record UnixListener(Server server, EventLoopGroup eventLoop, Object fileKey) {
    }

    private static UnixListener startUnix(RegistryGrpcService service, Path socket) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("Unix sockets need netty's epoll transport, which is not available here: " + Epoll.unavailabilityCause());
        }
        EventLoopGroup eventLoop = new EpollEventLoopGroup(1);
        Server[] server = new Server[1];
        try {
            Object fileKey = PrivateSocketFile.bind(socket.toAbsolutePath(), path -> server[0] = NettyServerBuilder
                    .forAddress(new DomainSocketAddress(path.toString()))
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(eventLoop)
                    .workerEventLoopGroup(eventLoop)
                    .addService(ServerInterceptors.intercept(service, CallerIdentity.fixed(RegistryService.ADMIN_IDENTITY)))
                    .build()
                    .start());
            return new UnixListener(server[0], eventLoop, fileKey);
        } catch (InterruptedException e) {
            stop(server[0], eventLoop);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + socket, e);
        } catch (IOException | RuntimeException e) {
            stop(server[0], eventLoop);
            throw e;
        }
    }

    private static void stop(Server server, EventLoopGroup eventLoop) {
        if (server != null) {
            server.shutdownNow();
        }
        eventLoop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    /** The bound TCP address (with the port chosen when 0 was asked for). */
    public Optional<InetSocketAddress> tcpAddress() {
        return tcpServer == null ? Optional.empty() : Optional.of((InetSocketAddress) tcpServer.getListenSockets().getFirst());
    }

    public Optional<Path> unixSocket() {
        return Optional.ofNullable(unixSocket);
    }

    /** Waits until {@link #close} has stopped every listener. */
    public void awaitTermination() throws InterruptedException {
        if (tcpServer != null) {
            tcpServer.awaitTermination();
        }
        if (unixServer != null) {
            unixServer.awaitTermination();
        }
    }

    /**
     * Stops accepting calls, lets running ones finish for up to {@value #GRACEFUL_STOP_SECONDS} s, then
     * cancels the rest, and deletes the socket file if it is still the one this server created.
     */
    @Override
    public void close() {
        for (Server server : new Server[]{tcpServer, unixServer}) {
            if (server != null) {
                server.shutdown();
            }
        }
        try {
            for (Server server : new Server[]{tcpServer, unixServer}) {
                if (server != null && !server.awaitTermination(GRACEFUL_STOP_SECONDS, TimeUnit.SECONDS)) {
                    server.shutdownNow().awaitTermination(GRACEFUL_STOP_SECONDS, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (unixEventLoop != null) {
            unixEventLoop.shutdownGracefully(0, GRACEFUL_STOP_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (unixSocket != null) {
            deleteOwnSocketFile();
        }
    }

    private void deleteOwnSocketFile() {
        PrivateSocketFile.deleteIfOwn(unixSocket, unixSocketFileKey);
    }
}
