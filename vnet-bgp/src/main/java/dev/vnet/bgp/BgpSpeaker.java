package dev.vnet.bgp;

import dev.vnet.bgp.rib.ImportFilter;
import dev.vnet.bgp.rib.Path;
import dev.vnet.bgp.rib.PeerRole;
import dev.vnet.bgp.rib.Rib;
import dev.vnet.bgp.rib.RouteSource;
import dev.vnet.bgp.rib.UpdateSink;
import dev.vnet.bgp.rib.VpnPrefix;
import dev.vnet.bgp.session.BgpConnection;
import dev.vnet.bgp.session.Negotiated;
import dev.vnet.bgp.session.Peer;
import dev.vnet.bgp.session.PeerEvents;
import dev.vnet.bgp.session.SessionSettings;
import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.BgpError;
import dev.vnet.bgp.wire.BgpMessageEncoder;
import dev.vnet.bgp.wire.Notification;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.Update;
import dev.vnet.bgp.wire.VpnNlriList;
import dev.vnet.wire.Ipv4Address;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A BGP-4 speaker (RFC 4271) for VPN-IPv4 (RFC 4364, 4760) among vnet's controller nodes: each node
 * originates the routes of the hosts it controls and learns everyone else's, over an iBGP full mesh or
 * through route reflectors, or over eBGP.
 *
 * <p>Everything (sessions, timers, RIBs) runs on one Netty event loop thread, as BIRD runs on one:
 * there are no locks, changes are applied in order, and a burst of changes is coalesced before it is
 * written to peers. The public methods may be called from any thread; they hand their work to that
 * thread. Listeners are called on it.
 *
 * <p>vnet's extension capability ({@link dev.vnet.bgp.wire.Capability.VnetExtension}) carries the
 * speaker's extension protocol version; two speakers of different versions run the lower one, and a
 * speaker without it (any other BGP implementation) peers as plain BGP. {@link PeerStatus#extensionVersion()}
 * tells what a session runs; nothing in this module behaves differently by version yet, it is there so
 * that later extensions can be switched on per session.
 */
public final class BgpSpeaker implements AutoCloseable {
    /** The vnet extension version this code implements. */
    public static final int EXTENSION_VERSION = 1;

    private static final Logger LOG = LoggerFactory.getLogger(BgpSpeaker.class);

    private final SpeakerConfig config;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Rib rib;
    private final Map<InetAddress, Peer> peersByAddress = new HashMap<>();
    private final List<Peer> peers = new ArrayList<>();
    private final Map<Peer, Rib.PeerRib> sessions = new IdentityHashMap<>();
    private final Map<PathAttributes, PathAttributes> localAttributes = new HashMap<>();
    private final List<BestPathListener> listeners = new CopyOnWriteArrayList<>();
    private volatile int locRibSize;
    private Channel server;
    private InetSocketAddress listenAddress;
    private volatile boolean closed;

    private BgpSpeaker(SpeakerConfig config) {
        this.config = config;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("vnet-bgp", true), NioIoHandler.newFactory());
        this.loop = group.next();
        this.rib = new Rib(config.localAs(), config.routerId(), config.clusterId(), config.importFilter(), loop, this::bestPathChanged);
    }

    /** Starts listening (if configured) and connecting to every peer. */
    public static BgpSpeaker start(SpeakerConfig config) throws IOException {
        BgpSpeaker speaker = new BgpSpeaker(config);
        try {
            speaker.startOnLoop();
            return speaker;
        } catch (IOException | RuntimeException e) {
            speaker.close();
            throw e;
        }
    }

    private void startOnLoop() throws IOException {
        call(() -> {
            for (PeerConfig peerConfig : config.peers()) {
                SessionSettings settings = new SessionSettings(config.localAs(), config.routerId(), config.holdTime(),
                        peerConfig.remoteAs(), config.routeRefresh(), config.extensionVersion(), peerConfig.extraCapabilities());
                Peer peer = new Peer(peerConfig.address(), settings, peerConfig.passive(), config.connectRetry(), loop,
                        this::connect, events, peerConfig);
                if (peersByAddress.putIfAbsent(peerConfig.address().getAddress(), peer) != null) {
                    throw new IllegalArgumentException("two peers with address " + peerConfig.address().getAddress()
                            + ": peers are told apart by address");
                }
                peers.add(peer);
            }
            return null;
        });
        if (config.listen() != null) {
            ChannelFuture bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            accept(channel);
                        }
                    }).bind(config.listen()).awaitUninterruptibly();
            if (!bound.isSuccess()) {
                throw new IOException("cannot listen on " + config.listen() + ": " + bound.cause().getMessage(), bound.cause());
            }
            server = bound.channel();
            listenAddress = (InetSocketAddress) server.localAddress();
            LOG.info("BGP speaker AS {} id {} listening on {}", config.localAs(), Ipv4Address.toString(config.routerId()), listenAddress);
        }
        call(() -> {
            peers.forEach(Peer::start);
            return null;
        });
    }

    private ChannelFuture connect(InetSocketAddress remote, BgpConnection connection) {
        Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        connection.install(channel.pipeline());
                    }
                });
        InetSocketAddress listen = config.listen();
        if (listen != null && !listen.getAddress().isAnyLocalAddress()) {
            return bootstrap.connect(remote, new InetSocketAddress(listen.getAddress(), 0));
        }
        return bootstrap.connect(remote);
    }

    /** An incoming connection: hand it to its peer, or refuse it with a NOTIFICATION. */
    private void accept(SocketChannel channel) {
        Peer peer = peersByAddress.get(channel.remoteAddress().getAddress());
        BgpConnection connection = peer == null ? null : peer.accept();
        if (connection != null) {
            connection.install(channel.pipeline());
            return;
        }
        Notification refusal = peer == null ? new Notification(BgpError.CEASE, BgpError.CEASE_CONNECTION_REJECTED) : peer.refusal();
        LOG.debug("BGP: refusing connection from {}: {}", channel.remoteAddress(), refusal.describe());
        channel.pipeline().addLast(new BgpMessageEncoder());
        channel.writeAndFlush(refusal).addListener(ChannelFutureListener.CLOSE);
    }

    private final PeerEvents events = new PeerEvents() {
        @Override
        public void sessionEstablished(Peer peer, BgpConnection connection) {
            Negotiated negotiated = connection.negotiated();
            if (!negotiated.vpnIpv4()) {
                LOG.warn("BGP peer {} did not advertise VPN-IPv4: the session carries no routes", peer.address());
                return;
            }
            PeerConfig peerConfig = (PeerConfig) peer.attachment();
            boolean external = negotiated.remoteAs() != config.localAs();
            RouteSource source = new RouteSource(external ? RouteSource.Kind.EXTERNAL : RouteSource.Kind.INTERNAL,
                    negotiated.remoteAs(), ipv4(peer.address().getAddress()),
                    negotiated.remoteRouterId(), peerConfig.routeReflectorClient() && !external);
            sessions.put(peer, rib.peerUp(new PeerRole(source, external, source.routeReflectorClient()), new ConnectionSink(connection)));
        }

        @Override
        public void sessionDown(Peer peer, String reason) {
            Rib.PeerRib session = sessions.remove(peer);
            if (session != null) {
                rib.peerDown(session);
            }
        }

        @Override
        public void updateReceived(Peer peer, Update update) {
            Rib.PeerRib session = sessions.get(peer);
            if (session != null) {
                rib.update(session, update);
            }
        }

        @Override
        public void routeRefreshReceived(Peer peer) {
            Rib.PeerRib session = sessions.get(peer);
            if (session != null) {
                rib.refresh(session);
            }
        }

        @Override
        public void writable(Peer peer) {
            Rib.PeerRib session = sessions.get(peer);
            if (session != null) {
                rib.writable(session);
            }
        }
    };

    private static int ipv4(InetAddress address) {
        byte[] bytes = address.getAddress();
        return bytes.length == 4 ? (bytes[0] & 0xFF) << 24 | (bytes[1] & 0xFF) << 16 | (bytes[2] & 0xFF) << 8 | (bytes[3] & 0xFF) : 0;
    }

    /** An Established connection as the Adj-RIB-Out's sink. */
    private record ConnectionSink(BgpConnection connection) implements UpdateSink {
        @Override
        public boolean isWritable() {
            return connection.isWritable();
        }

        @Override
        public ByteBufAllocator alloc() {
            return connection.alloc();
        }

        @Override
        public void send(ByteBuf messages) {
            connection.send(messages, false);
        }

        @Override
        public void flush() {
            connection.flush();
        }

        @Override
        public boolean fourOctetAs() {
            return connection.negotiated().fourOctetAs();
        }
    }

    private void bestPathChanged(VpnPrefix prefix, Path previous, Path current) {
        locRibSize = rib.locRib().size();
        if (listeners.isEmpty()) {
            return;
        }
        VpnRoute before = previous == null ? null : route(previous);
        VpnRoute after = current == null ? null : route(current);
        for (BestPathListener listener : listeners) {
            try {
                listener.bestPathChanged(before, after);
            } catch (RuntimeException e) {
                LOG.warn("BGP best path listener failed on {}", prefix, e);
            }
        }
    }

    private static VpnRoute route(Path path) {
        VpnPrefix prefix = path.prefix();
        PathAttributes attributes = path.attributes();
        return new VpnRoute(prefix.routeDistinguisher(), prefix.prefix(), path.label(), attributes.nextHop(),
                attributes.extendedCommunityList(), attributes);
    }

    public SpeakerConfig config() {
        return config;
    }

    /** The bound listening address (with the port chosen when 0 was asked for), if the speaker listens. */
    public Optional<InetSocketAddress> listenAddress() {
        return Optional.ofNullable(listenAddress);
    }

    public void addListener(BestPathListener listener) {
        listeners.add(listener);
    }

    public void removeListener(BestPathListener listener) {
        listeners.remove(listener);
    }

    /** Originates a route (or replaces the one with the same RD and prefix). */
    public void originate(VpnRoute route) {
        originateAll(List.of(route));
    }

    /** Originates many routes in one hand-over to the speaker's thread. */
    public void originateAll(Collection<VpnRoute> routes) {
        List<VpnRoute> copy = List.copyOf(routes);
        execute(() -> {
            for (VpnRoute route : copy) {
                PathAttributes.Builder builder = PathAttributes.builder().origin(PathAttributes.ORIGIN_IGP).asPath(AsPath.EMPTY)
                        .nextHop(route.nextHop()).extendedCommunities(route.communities());
                if (route.attributes() != null && route.attributes().med() >= 0) {
                    builder.med(route.attributes().med());
                }
                PathAttributes attributes = localAttributes.computeIfAbsent(builder.build(), a -> a);
                rib.originate(route.key(), VpnNlriList.labelEntryOf(route.label()), attributes);
            }
        });
    }

    /** Withdraws a route this speaker originated. */
    public void withdraw(dev.vnet.bgp.wire.RouteDistinguisher rd, dev.vnet.bgp.wire.Ipv4Prefix prefix) {
        VpnPrefix key = VpnPrefix.of(rd, prefix);
        execute(() -> rib.withdrawLocal(key));
    }

    /** Replaces the import filter; routes already received are filtered again. */
    public void importFilter(ImportFilter filter) {
        execute(() -> rib.importFilter(filter));
    }

    /** Destinations in the Loc-RIB (readable from any thread, updated as changes are applied). */
    public int locRibSize() {
        return locRibSize;
    }

    /** The best route to a destination. */
    public Optional<VpnRoute> bestPath(dev.vnet.bgp.wire.RouteDistinguisher rd, dev.vnet.bgp.wire.Ipv4Prefix prefix) {
        VpnPrefix key = VpnPrefix.of(rd, prefix);
        return call(() -> Optional.ofNullable(rib.locRib().best(key)).map(BgpSpeaker::route));
    }

    /** A snapshot of every best route in the Loc-RIB. */
    public List<VpnRoute> bestPaths() {
        return call(() -> {
            List<VpnRoute> routes = new ArrayList<>(rib.locRib().size());
            rib.locRib().forEachBest(path -> routes.add(route(path)));
            return routes;
        });
    }

    /** Every configured peer's state. */
    public List<PeerStatus> peers() {
        return call(() -> peers.stream().map(this::status).toList());
    }

    private PeerStatus status(Peer peer) {
        PeerConfig peerConfig = (PeerConfig) peer.attachment();
        BgpConnection connection = peer.established();
        Negotiated negotiated = connection == null ? null : connection.negotiated();
        Rib.PeerRib session = sessions.get(peer);
        return new PeerStatus(peer.address(), peerConfig.remoteAs(), peer.state(),
                negotiated == null ? null : Ipv4Address.toString(negotiated.remoteRouterId()),
                negotiated == null ? 0 : negotiated.holdTime(), negotiated == null ? 0 : negotiated.extensionVersion(),
                negotiated == null ? List.of() : negotiated.shared(),
                session == null ? 0 : session.received(), session == null ? 0 : session.advertised(),
                session == null ? 0 : session.updatesReceived(), session == null ? 0 : session.updatesSent(),
                session == null ? 0 : session.treatedAsWithdraw(), session != null && session.endOfRibReceived(),
                peer.establishedTransitions(), peer.lastError());
    }

    private void execute(Runnable task) {
        if (closed) {
            throw new IllegalStateException("the BGP speaker is closed");
        }
        loop.execute(task);
    }

    private <T> T call(Supplier<T> task) {
        if (loop.inEventLoop()) {
            return task.get();
        }
        try {
            return loop.submit(task::get).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the BGP speaker", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the BGP speaker did not answer in 30 s", e);
        }
    }

    /** Ends every session with Cease / Administrative Shutdown, stops listening and the speaker's thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!group.isShuttingDown()) {
            try {
                call(() -> {
                    peers.forEach(peer -> peer.stop("speaker closed"));
                    if (server != null) {
                        server.close();
                    }
                    return null;
                });
            } catch (RuntimeException e) {
                LOG.warn("BGP speaker: error while closing", e);
            }
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
