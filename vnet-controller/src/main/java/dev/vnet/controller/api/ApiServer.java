package dev.vnet.controller.api;

import dev.vnet.controller.Controller;
import dev.vnet.registry.server.PrivateSocketFile;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
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
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Serves the {@link NorthboundApi} over HTTP/1.1 (Netty 4.2, NIO transport) on up to two listeners: TCP,
 * and a Unix domain socket for local operators (the CLI). Bodies are aggregated up to 1 MiB (413 beyond);
 * handlers run on virtual threads, never on the event loop (see {@link HttpApiHandler}).
 *
 * <p>The socket file is made as the registry's admin socket is ({@link PrivateSocketFile}): mode 0600
 * from its first moment, a stale one from a crashed controller replaced, a live or foreign one refused.
 */
public final class ApiServer implements AutoCloseable {
    private static final long CLOSE_SECONDS = 5;

    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    private final EventLoopGroup eventLoop;
    private final ExecutorService handlers;
    private final ChannelGroup channels;
    private final InetSocketAddress tcpAddress;
    private final Path unixSocket;
    private Object unixSocketFileKey;

    private ApiServer(EventLoopGroup eventLoop, ExecutorService handlers, ChannelGroup channels, InetSocketAddress tcpAddress,
                      Path unixSocket) {
        this.eventLoop = eventLoop;
        this.handlers = handlers;
        this.channels = channels;
        this.tcpAddress = tcpAddress;
        this.unixSocket = unixSocket;
    }

    /**
     * Starts the listeners that are given (at least one).
     *
     * @param tcp        where to listen on TCP (port 0: any free port, see {@link #tcpAddress()}), or null
     * @param unixSocket the socket file to create (mode 0600), or null
     */
    public static ApiServer start(Controller controller, InetSocketAddress tcp, Path unixSocket) throws IOException {
        return start(new NorthboundApi(controller).router(), tcp, unixSocket);
    }

    /** Serves what {@code router} answers (the API itself, or a forwarder to the node that has it). */
    public static ApiServer start(ApiDispatcher router, InetSocketAddress tcp, Path unixSocket) throws IOException {
        if (tcp == null && unixSocket == null) {
            throw new IllegalArgumentException("the API needs a TCP address or a Unix socket path to listen on");
        }
        EventLoopGroup eventLoop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("vnet-api", true), NioIoHandler.newFactory());
        ExecutorService handlers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("vnet-api-request-", 0).factory());
        ChannelGroup channels = new DefaultChannelGroup("vnet-api", GlobalEventExecutor.INSTANCE);
        ChannelInitializer<Channel> pipeline = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel channel) {
                channels.add(channel);
                channel.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                        new HttpApiHandler.BoundedAggregator(), new HttpApiHandler(router, handlers));
            }
        };
        ApiServer server = null;
        try {
            InetSocketAddress bound = null;
            if (tcp != null) {
                Channel listener = new ServerBootstrap().group(eventLoop).channel(NioServerSocketChannel.class)
                        .childHandler(pipeline).bind(tcp).sync().channel();
                channels.add(listener);
                bound = (InetSocketAddress) listener.localAddress();
                LOG.info("API listening on http://{}:{}", bound.getHostString(), bound.getPort());
            }
            server = new ApiServer(eventLoop, handlers, channels, bound, unixSocket == null ? null : unixSocket.toAbsolutePath());
            if (unixSocket != null) {
                server.unixSocketFileKey = bindUnix(eventLoop, pipeline, channels, server.unixSocket);
                LOG.info("API listening on unix:{}", server.unixSocket);
            }
            return server;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(server, eventLoop, handlers, channels);
            throw new IOException("interrupted while binding the API's listeners", e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(server, eventLoop, handlers, channels);
            throw e;
        }
    }

    private static void closeQuietly(ApiServer server, EventLoopGroup eventLoop, ExecutorService handlers, ChannelGroup channels) {
        if (server != null) {
            server.close();
        } else {
            channels.close().awaitUninterruptibly();
            eventLoop.shutdownGracefully(0, CLOSE_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
            handlers.shutdownNow();
        }
    }

    /** Binds the socket ({@link PrivateSocketFile}: mode 0600, a stale one replaced); returns its file key, to recognise it at close. */
    private static Object bindUnix(EventLoopGroup eventLoop, ChannelInitializer<Channel> pipeline, ChannelGroup channels, Path target)
            throws IOException, InterruptedException {
        return PrivateSocketFile.bind(target, path -> channels.add(new ServerBootstrap().group(eventLoop)
                .channel(NioServerDomainSocketChannel.class).childHandler(pipeline)
                .bind(UnixDomainSocketAddress.of(path)).sync().channel()));
    }

    /** The bound TCP address (with the port chosen when 0 was asked for), if the API listens on TCP. */
    public Optional<InetSocketAddress> tcpAddress() {
        return Optional.ofNullable(tcpAddress);
    }

    public Optional<Path> unixSocket() {
        return Optional.ofNullable(unixSocket);
    }

    /**
     * Closes the listeners and every connection, stops the requests still running (a wait for hosts is
     * interrupted), and deletes the socket file if it is still the one this server created.
     */
    @Override
    public void close() {
        channels.close().awaitUninterruptibly();
        eventLoop.shutdownGracefully(0, CLOSE_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
        handlers.shutdownNow();
        if (unixSocket != null && unixSocketFileKey != null) {
            deleteOwnSocketFile();
        }
    }

    private void deleteOwnSocketFile() {
        PrivateSocketFile.deleteIfOwn(unixSocket, unixSocketFileKey);
    }
}
