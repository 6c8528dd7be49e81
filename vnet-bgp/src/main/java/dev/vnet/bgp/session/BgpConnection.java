package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.BgpError;
import dev.vnet.bgp.wire.BgpMessageDecoder;
import dev.vnet.bgp.wire.BgpMessageEncoder;
import dev.vnet.bgp.wire.DecodeError;
import dev.vnet.bgp.wire.Keepalive;
import dev.vnet.bgp.wire.Notification;
import dev.vnet.bgp.wire.Open;
import dev.vnet.bgp.wire.RouteRefresh;
import dev.vnet.bgp.wire.Update;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One TCP connection of a BGP session and its part of the RFC 4271 state machine (§8.2.2): the states a
 * connection passes through once TCP is up, OpenSent, OpenConfirm and Established, with the hold and
 * keepalive timers. Idle, Connect and Active, connect retry and collision detection belong to the
 * {@link Peer}, which may have two connections at once while a collision is resolved.
 *
 * <pre>
 *  TCP up ──send OPEN──▶ OpenSent ──OPEN ok, send KEEPALIVE──▶ OpenConfirm ──KEEPALIVE──▶ Established
 *     hold timer 240 s      │ OPEN refused: NOTIFICATION 2/x         │ anything else: FSM error 5/2   │ UPDATE, KEEPALIVE,
 *                           │ anything else: FSM error 5/1           │                                │ ROUTE-REFRESH
 *                           ▼                                        ▼                                ▼
 *                        closed (NOTIFICATION sent unless the peer sent one or the stream broke) ─▶ owner.closed
 * </pre>
 *
 * Timers are lazy, so a busy session costs no rescheduling per message: each message received only
 * records when; the hold timer, when it fires, compares that with the negotiated hold time and either
 * sends Hold Timer Expired (4/0) or sleeps for the remainder. Keepalives go every third of the hold time
 * after the last message sent, jittered to 75-100 % (RFC 4271 §10). A hold time of 0 runs neither.
 * Time is the event loop's ticker, so tests drive it with {@code EmbeddedChannel.advanceTimeBy}.
 *
 * <p>Malformed input arrives from the decoder as a {@link DecodeError} and is answered with its
 * NOTIFICATION; anything thrown while handling a message is caught here, answered with Cease and logged,
 * so nothing escapes into the pipeline.
 */
public final class BgpConnection extends ChannelInboundHandlerAdapter {
    /** Hold time while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes). */
    public static final long OPEN_HOLD_SECONDS = 240;

    public enum Phase { NEW, OPEN_SENT, OPEN_CONFIRM, ESTABLISHED, CLOSED }

    private static final Logger LOG = LoggerFactory.getLogger(BgpConnection.class);

    private final ConnectionOwner owner;
    private final boolean outgoing;
    private final BgpMessageDecoder decoder = new BgpMessageDecoder();
    private final BgpMessageEncoder encoder = new BgpMessageEncoder();
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.NEW;
    private Negotiated negotiated;
    private long holdNanos;
    private long keepaliveNanos;
    private long lastReceived;
    private long lastSent;
    private ScheduledFuture<?> holdTimer;
    private ScheduledFuture<?> keepaliveTimer;

    /** @param outgoing true if this speaker opened the TCP connection (collision resolution needs to know) */
    public BgpConnection(ConnectionOwner owner, boolean outgoing) {
        this.owner = owner;
        this.outgoing = outgoing;
    }

    /** Adds the codec and this handler to a connection's pipeline. */
    public void install(ChannelPipeline pipeline) {
        pipeline.addLast("bgp-decoder", decoder).addLast("bgp-encoder", encoder).addLast("bgp-session", this);
    }

    public boolean isOutgoing() {
        return outgoing;
    }

    public Phase phase() {
        return phase;
    }

    /** What the OPENs agreed on, once the peer's OPEN was accepted; null before. */
    public Negotiated negotiated() {
        return negotiated;
    }

    public Channel channel() {
        return ctx == null ? null : ctx.channel();
    }

    public InetSocketAddress remoteAddress() {
        return ctx == null ? null : (InetSocketAddress) ctx.channel().remoteAddress();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (phase != Phase.NEW) {
            return;
        }
        phase = Phase.OPEN_SENT;
        lastReceived = now();
        holdNanos = TimeUnit.SECONDS.toNanos(OPEN_HOLD_SECONDS);
        send(owner.settings().open(), true);
        scheduleHold(holdNanos);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        try {
            if (phase != Phase.CLOSED) {
                handle(message);
            }
        } catch (RuntimeException e) {
            LOG.warn("BGP session {}: failed to handle {}", remoteAddress(), message, e);
            close(new Notification(BgpError.CEASE, BgpError.CEASE_OUT_OF_RESOURCES), "internal error: " + e);
        } finally {
            ReferenceCountUtil.release(message);
        }
    }

    private void handle(Object message) {
        lastReceived = now();
        switch (message) {
            case DecodeError error -> {
                if (error.answer()) {
                    close(error.notification(), "malformed message: " + error.reason() + " (sent " + error.notification().describe() + ")");
                } else {
                    closeSilently("malformed NOTIFICATION from the peer: " + error.reason());
                }
            }
            case Open open -> onOpen(open);
            case Keepalive ignored -> onKeepalive();
            case Update update -> {
                if (phase != Phase.ESTABLISHED) {
                    unexpected("UPDATE");
                } else {
                    owner.updateReceived(this, update);
                }
            }
            case RouteRefresh refresh -> {
                if (phase != Phase.ESTABLISHED) {
                    unexpected("ROUTE-REFRESH");
                } else {
                    owner.routeRefreshReceived(this, refresh);
                }
            }
            case Notification notification -> closeSilently("peer sent NOTIFICATION " + notification.describe());
            default -> LOG.debug("BGP session {}: ignoring {}", remoteAddress(), message);
        }
    }

    private void onOpen(Open open) {
        if (phase != Phase.OPEN_SENT) {
            unexpected("OPEN");
            return;
        }
        Negotiation.Result result = Negotiation.negotiate(owner.settings(), open);
        if (result.refusal() != null) {
            close(result.refusal(), "refused the peer's OPEN: " + result.reason());
            return;
        }
        negotiated = result.negotiated();
        decoder.fourOctetAs(negotiated.fourOctetAs());
        encoder.fourOctetAs(negotiated.fourOctetAs());
        phase = Phase.OPEN_CONFIRM;
        if (!owner.openReceived(this) || phase == Phase.CLOSED) {
            return;
        }
        send(Keepalive.INSTANCE, true);
        cancelTimers();
        holdNanos = TimeUnit.SECONDS.toNanos(negotiated.holdTime());
        keepaliveNanos = TimeUnit.SECONDS.toNanos(negotiated.keepaliveTime());
        if (holdNanos > 0) {
            scheduleHold(holdNanos);
            scheduleKeepalive(jittered(keepaliveNanos));
        }
    }

    private void onKeepalive() {
        switch (phase) {
            case OPEN_SENT -> unexpected("KEEPALIVE");
            case OPEN_CONFIRM -> {
                phase = Phase.ESTABLISHED;
                owner.established(this);
            }
            default -> { }
        }
    }

    /** Any message the state does not allow: FSM Error with the state's subcode (RFC 6608). */
    private void unexpected(String what) {
        int subcode = switch (phase) {
            case OPEN_SENT -> BgpError.FSM_UNEXPECTED_IN_OPEN_SENT;
            case OPEN_CONFIRM -> BgpError.FSM_UNEXPECTED_IN_OPEN_CONFIRM;
            default -> BgpError.FSM_UNEXPECTED_IN_ESTABLISHED;
        };
        close(new Notification(BgpError.FSM, subcode), what + " received in " + phase);
    }

    private void scheduleHold(long delayNanos) {
        holdTimer = ctx.executor().schedule(this::holdTimerFired, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void holdTimerFired() {
        if (phase == Phase.CLOSED) {
            return;
        }
        long quiet = now() - lastReceived;
        if (quiet >= holdNanos) {
            close(new Notification(BgpError.HOLD_TIMER_EXPIRED, 0), "hold timer expired (nothing received for "
                    + TimeUnit.NANOSECONDS.toMillis(quiet) + " ms)");
        } else {
            scheduleHold(holdNanos - quiet);
        }
    }

    private void scheduleKeepalive(long delayNanos) {
        keepaliveTimer = ctx.executor().schedule(this::keepaliveTimerFired, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void keepaliveTimerFired() {
        if (phase == Phase.CLOSED) {
            return;
        }
        long interval = jittered(keepaliveNanos);
        long idle = now() - lastSent;
        if (idle >= interval) {
            send(Keepalive.INSTANCE, true);
            scheduleKeepalive(interval);
        } else {
            scheduleKeepalive(interval - idle);
        }
    }

    private static long jittered(long nanos) {
        return (long) (nanos * (0.75 + 0.25 * java.util.concurrent.ThreadLocalRandom.current().nextDouble()));
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }

    /** Writes a message or an encoded buffer; flushes if asked. Counts as sending for the keepalive timer. */
    public void send(Object message, boolean flush) {
        if (phase == Phase.CLOSED) {
            ReferenceCountUtil.release(message);
            return;
        }
        lastSent = now();
        if (flush) {
            ctx.writeAndFlush(message, ctx.voidPromise());
        } else {
            ctx.write(message, ctx.voidPromise());
        }
    }

    public void flush() {
        if (phase != Phase.CLOSED) {
            ctx.flush();
        }
    }

    public boolean isWritable() {
        return phase != Phase.CLOSED && ctx.channel().isWritable();
    }

    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    /** Sends the NOTIFICATION, closes the connection once it is written, and tells the owner why. */
    public void close(Notification notification, String reason) {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        cancelTimers();
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(notification).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
        owner.closed(this, reason);
    }

    /** Closes without a NOTIFICATION (the peer sent one, or the stream is broken). */
    public void closeSilently(String reason) {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        cancelTimers();
        ctx.close();
        owner.closed(this, reason);
    }

    private void cancelTimers() {
        if (holdTimer != null) {
            holdTimer.cancel(false);
            holdTimer = null;
        }
        if (keepaliveTimer != null) {
            keepaliveTimer.cancel(false);
            keepaliveTimer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeSilently("connection closed by the peer");
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (phase == Phase.ESTABLISHED) {
            owner.writabilityChanged(this);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            closeSilently("connection error: " + cause.getMessage());
        } else {
            LOG.warn("BGP session {}: unexpected error", remoteAddress(), cause);
            close(new Notification(BgpError.CEASE, BgpError.CEASE_OUT_OF_RESOURCES), "internal error: " + cause);
        }
    }
}
