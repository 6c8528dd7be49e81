package dev.vnet.vsock.session;

import dev.vnet.vsock.transport.SessionSocket;
import dev.vnet.wire.vsock.FrameDecoder;
import dev.vnet.wire.vsock.FrameHandler;
import dev.vnet.wire.vsock.FrameWriter;
import dev.vnet.wire.vsock.VsockFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One guest–host session (docs/vsock.md): a reader thread decodes frames and hands each to the
 * {@link Endpoint} (the host device or the guest client), a writer thread drains the {@link FrameOutbox}
 * into the socket in batches. The endpoint must never block the reader on a socket's work: what a
 * frame asks for runs elsewhere (virtual threads), and data waits in buffers bounded by credits.
 *
 * <p>A malformed frame, or a protocol violation the endpoint reports through {@link #violation}, ends
 * the session with a {@code GOODBYE} that names the reason; nothing else in the process is affected.
 */
public final class Session implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    private static final int READ_BUFFER = 256 * 1024;
    private static final int WRITE_BATCH = 1024 * 1024;
    private static final int OUTBOX_CAPACITY = 4 * 1024 * 1024;

    /** What a session's frames go to. Called on the reader thread. */
    public interface Endpoint {
        /** One whole frame: its header in {@code frame}, its payload at {@code payloadOffset} of {@code buffer}. */
        void onFrame(Session session, VsockFrame frame, ByteBuffer buffer, int payloadOffset, int payloadLength);

        /** The session ended (the peer left, a violation, or close); called once. */
        void onClosed(Session session, String reason);

        /** The stream is not frames any more; the session ends (an endpoint may count it first). */
        default void onMalformed(Session session, String reason) {
            session.violation("malformed frame: " + reason);
        }
    }

    private final SessionSocket socket;
    private final String name;
    private final Endpoint endpoint;
    private final FrameOutbox outbox = new FrameOutbox(OUTBOX_CAPACITY);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile String closeReason = "closed";
    private Thread reader;
    private Thread writer;

    public Session(SessionSocket socket, String name, Endpoint endpoint) {
        this.socket = socket;
        this.name = name;
        this.endpoint = endpoint;
    }

    public String name() {
        return name;
    }

    public FrameOutbox outbox() {
        return outbox;
    }

    public Session start() {
        writer = Thread.ofPlatform().name("vsock-" + name + "-writer").daemon().start(this::writeLoop);
        reader = Thread.ofPlatform().name("vsock-" + name + "-reader").daemon().start(this::readLoop);
        return this;
    }

    private void readLoop() {
        ByteBuffer input = ByteBuffer.allocateDirect(READ_BUFFER);
        FrameDecoder decoder = new FrameDecoder(new FrameHandler() {
            @Override
            public void frame(VsockFrame frame, ByteBuffer payload) {
                endpoint.onFrame(Session.this, frame, payload, frame.payloadOffset(), frame.payloadLength());
            }

            @Override
            public void malformed(String reason) {
                endpoint.onMalformed(Session.this, reason);
            }
        });
        try {
            while (!closed.get()) {
                input.clear();
                if (socket.read(input) < 0) {
                    close("the peer closed the session");
                    return;
                }
                input.flip();
                decoder.feed(input);
            }
        } catch (IOException e) {
            close(e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("session {}: {}", name, e.toString(), e);
            violation("internal error: " + e);
        }
    }

    private void writeLoop() {
        ByteBuffer batch = ByteBuffer.allocateDirect(WRITE_BATCH);
        try {
            while (true) {
                batch.clear();
                outbox.drainInto(batch);
                if (batch.position() == 0) {
                    if (closed.get()) {
                        return;
                    }
                    outbox.awaitFrames();
                    continue;
                }
                batch.flip();
                socket.writeFully(batch);
            }
        } catch (IOException e) {
            close(e.getMessage());
        }
    }

    /**
     * Ends the session because the peer broke the protocol: says why in a {@code GOODBYE}, then closes.
     */
    public void violation(String reason) {
        if (closed.get()) {
            return;
        }
        LOG.warn("session {}: closing: {}", name, reason);
        String said = reason.length() > 1000 ? reason.substring(0, 1000) : reason;
        outbox.send(VsockFrame.HEADER_LENGTH + 4 + 2 + 3 * said.length(),
                (buffer, offset) -> FrameWriter.goodbye(buffer, offset, Errno.EPROTO, said));
        // Give the writer a moment to send the GOODBYE before the socket goes.
        for (int i = 0; i < 50 && !outbox.isEmpty(); i++) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        close(reason);
    }

    public boolean isClosed() {
        return closed.get();
    }

    public String closeReason() {
        return closeReason;
    }

    private void close(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeReason = reason;
        outbox.close();
        socket.close();
        endpoint.onClosed(this, reason);
    }

    @Override
    public void close() {
        close("closed");
    }
}
