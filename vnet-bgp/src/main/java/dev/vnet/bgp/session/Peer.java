package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.BgpError;
import dev.vnet.bgp.wire.Notification;
import dev.vnet.bgp.wire.RouteRefresh;
import dev.vnet.bgp.wire.Update;
import dev.vnet.wire.Ipv4Address;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One configured neighbour: the peer-wide part of the RFC 4271 state machine (§8), its connections and
 * connect retry. Everything runs on one event loop, so there are no locks.
 *
 * <pre>
 *  start ─▶ Connect (TCP connect under way) ──fails──▶ Active (connect retry timer running, incoming accepted)
 *              │                                          │ timer ─▶ Connect
 *              └──TCP up / incoming accepted──▶ OpenSent ─▶ OpenConfirm ─▶ Established   (see BgpConnection)
 *  a session that fails or ends ─▶ Idle (logged with the reason) ─▶ Active after the retry delay
 * </pre>
 *
 * A peer may hold two connections at once, one it opened and one it accepted, when both speakers
 * connect at the same time. Collision detection (§6.8): when a connection's OPEN arrives and the other
 * connection has reached OpenConfirm, the connection opened by the speaker with the higher BGP
 * identifier survives (the local system's own if its identifier is higher), the other is closed with
 * Cease / Connection Collision Resolution (RFC 4486, 6/7). A connection arriving while a session is
 * Established is closed the same way. Passive peers never connect, they only accept.
 *
 * <p>Connect retry follows {@link ConnectRetry}: exponential (or fixed) with jitter, reset by an
 * Established session. An incoming connection is accepted whenever the peer is started and not
 * Established, also while the retry timer runs, so whichever side comes back first brings the session up.
 */
public final class Peer implements ConnectionOwner {
    private static final Logger LOG = LoggerFactory.getLogger(Peer.class);

    private final InetSocketAddress address;
    private final SessionSettings settings;
    private final boolean passive;
    private final ConnectRetry retry;
    private final EventLoop loop;
    private final Connector connector;
    private final PeerEvents events;
    private final Object attachment;
    private boolean started;
    private BgpConnection outgoing;
    private BgpConnection incoming;
    private BgpConnection established;
    private ScheduledFuture<?> retryTimer;
    private int failures;
    private String lastError;
    private long establishedTransitions;
    private SessionState lastLogged = SessionState.IDLE;

    /**
     * @param attachment anything the speaker wants to find from the peer (its routing state)
     */
    public Peer(InetSocketAddress address, SessionSettings settings, boolean passive, ConnectRetry retry, EventLoop loop,
                Connector connector, PeerEvents events, Object attachment) {
        this.address = address;
        this.settings = settings;
        this.passive = passive;
        this.retry = retry;
        this.loop = loop;
        this.connector = connector;
        this.events = events;
        this.attachment = attachment;
    }

    public InetSocketAddress address() {
        return address;
    }

    @Override
    public SessionSettings settings() {
        return settings;
    }

    public Object attachment() {
        return attachment;
    }

    public EventLoop loop() {
        return loop;
    }

    /** The Established connection, or null. */
    public BgpConnection established() {
        return established;
    }

    public String lastError() {
        return lastError;
    }

    public long establishedTransitions() {
        return establishedTransitions;
    }

    /** The state as RFC 4271 names it, from the most advanced connection. */
    public SessionState state() {
        if (established != null) {
            return SessionState.ESTABLISHED;
        }
        SessionState best = started ? SessionState.ACTIVE : SessionState.IDLE;
        for (BgpConnection connection : new BgpConnection[] {outgoing, incoming}) {
            if (connection == null) {
                continue;
            }
            SessionState state = switch (connection.phase()) {
                case NEW -> SessionState.CONNECT;
                case OPEN_SENT -> SessionState.OPEN_SENT;
                case OPEN_CONFIRM -> SessionState.OPEN_CONFIRM;
                default -> best;
            };
            if (state.ordinal() > best.ordinal()) {
                best = state;
            }
        }
        return best;
    }

    /** ManualStart / AutomaticStart: connect now (unless passive) and keep the session up from then on. */
    public void start() {
        assert loop.inEventLoop();
        if (started) {
            return;
        }
        started = true;
        if (!passive) {
            connect();
        }
    }

    /** ManualStop: Cease / Administrative Shutdown on every connection, and no more retries. */
    public void stop(String reason) {
        assert loop.inEventLoop();
        started = false;
        cancelRetry();
        for (BgpConnection connection : new BgpConnection[] {established, outgoing, incoming}) {
            if (connection != null) {
                connection.close(new Notification(BgpError.CEASE, BgpError.CEASE_ADMINISTRATIVE_SHUTDOWN), reason);
            }
        }
    }

    private void connect() {
        if (!started || passive || outgoing != null || established != null) {
            return;
        }
        BgpConnection connection = new BgpConnection(this, true);
        outgoing = connection;
        LOG.debug("BGP peer {}: Connect", address);
        ChannelFuture future = connector.connect(address, connection);
        future.addListener(done -> {
            if (!done.isSuccess() && outgoing == connection) {
                outgoing = null;
                lastError = "connect failed: " + done.cause().getMessage();
                LOG.debug("BGP peer {}: {}; Active", address, lastError);
                if (incoming == null && established == null) {
                    scheduleRetry();
                }
            }
        });
    }

    /**
     * A TCP connection from the peer's address arrived: returns the connection handler to install, or
     * null if it is refused (the caller sends the NOTIFICATION given by {@link #refusal()} and closes).
     */
    public BgpConnection accept() {
        assert loop.inEventLoop();
        if (!started || established != null) {
            return null;
        }
        BgpConnection replaced = incoming;
        cancelRetry();
        incoming = new BgpConnection(this, false);
        if (replaced != null) {
            // the peer gave up on its earlier connection (it restarted, say): the new one takes its place
            replaced.close(new Notification(BgpError.CEASE, BgpError.CEASE_CONNECTION_COLLISION),
                    "replaced by a newer connection from the peer");
        }
        return incoming;
    }

    /** Why {@link #accept()} refused: Connection Rejected when stopped, Collision Resolution when Established. */
    public Notification refusal() {
        return new Notification(BgpError.CEASE, started ? BgpError.CEASE_CONNECTION_COLLISION : BgpError.CEASE_CONNECTION_REJECTED);
    }

    @Override
    public boolean openReceived(BgpConnection connection) {
        Notification collision = new Notification(BgpError.CEASE, BgpError.CEASE_CONNECTION_COLLISION);
        if (established != null) {
            connection.close(collision, "collision with the Established session");
            return false;
        }
        BgpConnection other = connection == outgoing ? incoming : outgoing;
        if (other != null && other.phase() == BgpConnection.Phase.OPEN_CONFIRM) {
            boolean localWins = Integer.compareUnsigned(settings.routerId(), connection.negotiated().remoteRouterId()) > 0;
            BgpConnection loser = localWins == connection.isOutgoing() ? other : connection;
            loser.close(collision, "connection collision resolved by BGP identifier ("
                    + (localWins ? "local" : "remote") + " is higher)");
            return loser != connection;
        }
        return true;
    }

    @Override
    public void established(BgpConnection connection) {
        established = connection;
        BgpConnection other = connection == outgoing ? incoming : outgoing;
        if (other != null) {
            other.close(new Notification(BgpError.CEASE, BgpError.CEASE_CONNECTION_COLLISION), "the other connection is Established");
        }
        failures = 0;
        lastError = null;
        establishedTransitions++;
        cancelRetry();
        Negotiated negotiated = connection.negotiated();
        LOG.info("BGP peer {} (AS {}, id {}): Established ({} connection, hold {} s, {})", address, negotiated.remoteAs(),
                Ipv4Address.toString(negotiated.remoteRouterId()), connection.isOutgoing() ? "outgoing" : "incoming",
                negotiated.holdTime(), String.join(", ", negotiated.shared()));
        lastLogged = SessionState.ESTABLISHED;
        events.sessionEstablished(this, connection);
    }

    @Override
    public void updateReceived(BgpConnection connection, Update update) {
        if (connection == established) {
            events.updateReceived(this, update);
        }
    }

    @Override
    public void routeRefreshReceived(BgpConnection connection, RouteRefresh refresh) {
        if (connection == established) {
            events.routeRefreshReceived(this);
        }
    }

    @Override
    public void writabilityChanged(BgpConnection connection) {
        if (connection == established && connection.isWritable()) {
            events.writable(this);
        }
    }

    @Override
    public void closed(BgpConnection connection, String reason) {
        boolean wasEstablished = connection == established;
        if (connection == outgoing) {
            outgoing = null;
        }
        if (connection == incoming) {
            incoming = null;
        }
        if (wasEstablished) {
            established = null;
            events.sessionDown(this, reason);
        }
        if (established == null && outgoing == null && incoming == null) {
            lastError = reason;
            if (wasEstablished || lastLogged != SessionState.IDLE || connection.negotiated() != null) {
                LOG.info("BGP peer {}: Idle ({})", address, reason);
            } else {
                LOG.debug("BGP peer {}: Idle ({})", address, reason);
            }
            lastLogged = SessionState.IDLE;
            if (started) {
                scheduleRetry();
            }
        }
    }

    private void scheduleRetry() {
        cancelRetry();
        long delay = retry.delayNanos(failures++);
        retryTimer = loop.schedule(() -> {
            retryTimer = null;
            connect();
        }, delay, TimeUnit.NANOSECONDS);
    }

    private void cancelRetry() {
        if (retryTimer != null) {
            retryTimer.cancel(false);
            retryTimer = null;
        }
    }

    @Override
    public String toString() {
        return "Peer[" + address + ", " + state() + "]";
    }
}
