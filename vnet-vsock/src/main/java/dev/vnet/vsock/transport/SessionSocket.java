package dev.vnet.vsock.transport;

import dev.vnet.dataplane.sys.Libc;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One end of a guest–host session: a connected stream socket (an abstract Unix socket or AF_VSOCK),
 * read and written through libc because the JDK's channels cannot name either address family.
 *
 * <p>One thread reads and one thread writes (the session's reader and writer), each with its own
 * {@link Libc}, so errno never crosses threads. The calls block: both threads are platform threads,
 * never virtual ones, which a blocking downcall would pin to their carrier.
 */
public final class SessionSocket implements AutoCloseable {
    private final int fd;
    private final Libc readerLibc = new Libc();
    private final Libc writerLibc = new Libc();
    private volatile boolean closed;

    SessionSocket(int fd) {
        this.fd = fd;
    }

    /**
     * Reads what is there (at least one byte, blocking until then) into {@code direct} from its position
     * up to its limit, and advances its position.
     *
     * @return the bytes read, or -1 at the end of the stream (the peer closed, or {@link #close} ran)
     */
    public int read(ByteBuffer direct) throws IOException {
        long address = MemorySegment.ofBuffer(direct).address();
        while (true) {
            long n = readerLibc.read(fd, address, direct.remaining());
            if (n > 0) {
                direct.position(direct.position() + (int) n);
                return (int) n;
            }
            if (n == 0 || closed) {
                return -1;
            }
            if (readerLibc.errno() != Libc.EINTR) {
                throw new IOException("session read: " + Libc.strerror(readerLibc.errno()));
            }
        }
    }

    /** Writes all of {@code direct} from its position to its limit (blocking while the peer is behind). */
    public void writeFully(ByteBuffer direct) throws IOException {
        long address = MemorySegment.ofBuffer(direct).address();
        while (direct.hasRemaining()) {
            long n = writerLibc.write(fd, address, direct.remaining());
            if (n > 0) {
                direct.position(direct.position() + (int) n);
                address += n;
            } else if (n < 0 && writerLibc.errno() == Libc.EINTR) {
                continue;
            } else {
                throw new IOException("session write: " + (closed ? "closed" : Libc.strerror(writerLibc.errno())));
            }
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Ends the session both ways (a blocked read returns -1) and releases the descriptor. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc libc = new Libc();
        libc.shutdown(fd, Libc.SHUT_RDWR);
        libc.close(fd);
    }
}
