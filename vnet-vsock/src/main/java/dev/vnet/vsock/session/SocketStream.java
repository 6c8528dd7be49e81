package dev.vnet.vsock.session;

import dev.vnet.wire.vsock.FrameWriter;
import dev.vnet.wire.vsock.VsockFrame;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connected stream socket of a session, as either side sees it: the bytes the peer sent (DATA),
 * buffered until read, and the bytes this side may still send (credit). Both sides use it, the host
 * for an offloaded connection, the guest for its application's end.
 *
 * <h2>Credits (docs/vsock.md, "Flow control")</h2>
 * The receive buffer has room for exactly the window this side announced. The peer may send only
 * what its credit allows, so {@link #received} never waits: data beyond the room left is a protocol
 * violation, reported to the caller, which ends the session. Each time the reader takes bytes out, a
 * {@code CREDIT} tells the peer it may send that many more (batched: at least a quarter of the window,
 * or whatever the reader took when the buffer ran dry, so a slow trickle does not stall). Sending
 * waits while the credit the peer gave is spent: a stalled reader on the far side holds up only this
 * socket's writer, never the session.
 *
 * <p>The buffer starts small and doubles, up to the window, only when the data waiting needs it: a
 * thousand idle connections cost a thousand small buffers, not a thousand windows.
 *
 * <h2>A window that grows while the reader keeps up</h2>
 * The initial window (256 KiB) lasts about half a millisecond at 4 Gbit/s, less than the round of
 * thread hand-offs that brings a credit back, so a fast stream would spend its time waiting for
 * credit (measured: docs/benchmarks.md). As TCP's receive autotuning does, once a whole window has
 * gone through and a read leaves the buffer empty, so the reader keeps up with a sender that fills
 * the window, the window doubles, up to {@link #MAX_WINDOW}, by granting the difference with the next
 * credit. Small exchanges never grow it, and a reader that falls behind never does, so a socket that
 * stalls early holds at most the initial window (one that stalls after a fast transfer, its grown one).
 */
public final class SocketStream {
    public static final int DEFAULT_WINDOW = VsockFrame.DEFAULT_INITIAL_CREDIT;
    private static final int MAX_CHUNK = VsockFrame.MAX_DATA_CHUNK;
    private static final int CREDIT_FRAME = VsockFrame.HEADER_LENGTH + 4;
    private static final int SHUTDOWN_FRAME = VsockFrame.HEADER_LENGTH + 1;

    private final Session session;
    private final int socketId;
    /** The largest a window grows to (per socket, only while its reader keeps up). */
    public static final int MAX_WINDOW = 4 * 1024 * 1024;
    private int window;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final Condition creditArrived = lock.newCondition();
    private static final int INITIAL_BUFFER = 16 * 1024;
    private byte[] ring;
    private int head;
    private int size;
    private int unacknowledged;
    /** Bytes the peer may have sent in all: the window plus every CREDIT sent. */
    private long granted;
    private long receivedTotal;
    private long consumedSinceGrowth;
    private long sendCredit;
    private boolean peerShutdown;
    private boolean writeShutdown;
    private int failure;
    private boolean closed;
    private final InputStream in = new In();
    private final OutputStream out = new Out();

    public SocketStream(Session session, int socketId, int window, long initialSendCredit) {
        this.session = session;
        this.socketId = socketId;
        this.window = window;
        this.ring = new byte[Math.min(INITIAL_BUFFER, window)];
        this.sendCredit = initialSendCredit;
        this.granted = window;
    }

    public int socketId() {
        return socketId;
    }

    /** The receive window now: the initial one, doubled each time the reader showed it keeps up. */
    public int window() {
        lock.lock();
        try {
            return window;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes a DATA frame's payload (reader thread; never blocks).
     *
     * @return false when the peer sent more than its credit allowed: the caller ends the session
     */
    public boolean received(ByteBuffer buffer, int offset, int length) {
        lock.lock();
        try {
            if (receivedTotal + length > granted) {
                return false; // more than this side ever allowed, however fast it was read
            }
            receivedTotal += length;
            if (closed) {
                return true; // already closed here; the peer has not seen our CLOSE yet
            }
            if (length > ring.length - size) {
                grow(size + length);
            }
            int tail = (head + size) % ring.length;
            int first = Math.min(length, ring.length - tail);
            buffer.get(offset, ring, tail, first);
            if (first < length) {
                buffer.get(offset + first, ring, 0, length - first);
            }
            size += length;
            readable.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Makes room for {@code needed} bytes (at most the window, which the caller checked), keeping what waits in order. */
    private void grow(int needed) {
        int capacity = ring.length;
        while (capacity < needed) {
            capacity *= 2;
        }
        byte[] larger = new byte[Math.min(capacity, window)];
        int first = Math.min(size, ring.length - head);
        System.arraycopy(ring, head, larger, 0, first);
        System.arraycopy(ring, 0, larger, first, size - first);
        ring = larger;
        head = 0;
    }

    /** A CREDIT frame: the peer accepts {@code bytes} more. */
    public void credit(long bytes) {
        lock.lock();
        try {
            sendCredit += bytes;
            creditArrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The peer will send nothing more (SHUTDOWN of its writing side): reads end after what is buffered. */
    public void peerShutdown() {
        lock.lock();
        try {
            peerShutdown = true;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The socket failed with {@code errno} on the other side (or the session ended): reads and writes fail. */
    public void fail(int errno) {
        lock.lock();
        try {
            if (failure == 0) {
                failure = errno;
            }
            readable.signalAll();
            creditArrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Closes this end: waiting readers and writers return. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            readable.signalAll();
            creditArrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean hasBufferedInput() {
        lock.lock();
        try {
            return size > 0 || peerShutdown;
        } finally {
            lock.unlock();
        }
    }

    public boolean canSend() {
        lock.lock();
        try {
            return sendCredit > 0 && !writeShutdown;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes the peer sent: what the application reads. */
    public InputStream in() {
        return in;
    }

    /** Bytes for the peer: writes wait for credit. Closing it sends SHUTDOWN(write). */
    public OutputStream out() {
        return out;
    }

    private IOException failed() {
        return new IOException("socket " + socketId + " failed: errno " + failure);
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            int n;
            int acknowledge = 0;
            lock.lock();
            try {
                while (size == 0) {
                    if (failure != 0) {
                        throw failed();
                    }
                    if (peerShutdown || closed) {
                        return -1;
                    }
                    readable.awaitUninterruptibly();
                }
                n = Math.min(length, size);
                int first = Math.min(n, ring.length - head);
                System.arraycopy(ring, head, into, offset, first);
                if (first < n) {
                    System.arraycopy(ring, 0, into, offset + first, n - first);
                }
                head = (head + n) % ring.length;
                size -= n;
                unacknowledged += n;
                consumedSinceGrowth += n;
                if (unacknowledged >= window / 4 || size == 0) {
                    acknowledge = unacknowledged;
                    unacknowledged = 0;
                    if (size == 0 && consumedSinceGrowth >= window && window < MAX_WINDOW) {
                        acknowledge += window; // a whole window went through and the reader kept up: twice it
                        window *= 2;
                        consumedSinceGrowth = 0;
                    }
                    granted += acknowledge;
                }
            } finally {
                lock.unlock();
            }
            if (acknowledge > 0) {
                int granted = acknowledge;
                session.outbox().send(CREDIT_FRAME, (buffer, at) -> FrameWriter.credit(buffer, at, socketId, granted));
            }
            return n;
        }

        @Override
        public int available() {
            lock.lock();
            try {
                return size;
            } finally {
                lock.unlock();
            }
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] from, int offset, int length) throws IOException {
            while (length > 0) {
                int chunk;
                lock.lock();
                try {
                    while (sendCredit == 0 && failure == 0 && !closed) {
                        creditArrived.awaitUninterruptibly();
                    }
                    if (failure != 0) {
                        throw failed();
                    }
                    if (closed || writeShutdown) {
                        throw new IOException("socket " + socketId + " is closed for writing");
                    }
                    chunk = (int) Math.min(Math.min(length, MAX_CHUNK), sendCredit);
                    sendCredit -= chunk;
                } finally {
                    lock.unlock();
                }
                int start = offset;
                int count = chunk;
                if (!session.outbox().send(VsockFrame.HEADER_LENGTH + count,
                        (buffer, at) -> FrameWriter.data(buffer, at, socketId, from, start, count))) {
                    throw new IOException("the session ended");
                }
                offset += chunk;
                length -= chunk;
            }
        }

        /** SHUTDOWN(write): the peer's reads end after what was sent. */
        @Override
        public void close() {
            lock.lock();
            try {
                if (writeShutdown || closed) {
                    return;
                }
                writeShutdown = true;
            } finally {
                lock.unlock();
            }
            session.outbox().send(SHUTDOWN_FRAME,
                    (buffer, at) -> FrameWriter.shutdown(buffer, at, socketId, VsockFrame.NO_REQUEST_ID, VsockFrame.SHUTDOWN_WRITE));
        }
    }
}
