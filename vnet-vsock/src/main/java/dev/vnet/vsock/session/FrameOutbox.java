package dev.vnet.vsock.session;

import dev.vnet.wire.vsock.VsockFrame;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

/**
 * Frames on their way out of a session: any thread appends whole frames, one writer thread drains them
 * in batches, so a burst of small frames from many sockets costs one {@code write} rather than one each.
 *
 * <p>An Agrona {@link ManyToOneRingBuffer} over off-heap memory (the Aeron model): a producer claims
 * room for the frame, writes header and payload in place and commits; nothing is allocated per frame.
 * When the ring is full the producer waits (parks briefly and retries): that is backpressure from the
 * peer's reader, which the credits of each socket keep bounded.
 */
public final class FrameOutbox {
    /**
     * Writes one whole frame (header and payload, as {@link dev.vnet.wire.vsock.FrameWriter} does) at
     * {@code offset} of {@code buffer} and returns the index just past it.
     */
    @FunctionalInterface
    public interface FrameWriting {
        int write(ByteBuffer buffer, int offset);
    }

    private static final int FRAME_MESSAGE = 1;

    /** Room a {@code str} of {@code text} can take at most (UTF-8 needs up to 3 bytes per UTF-16 unit). */
    public static int room(String text) {
        return 2 + 3 * text.length();
    }
    private final ManyToOneRingBuffer ring;
    private final ByteBuffer memory;
    private volatile boolean closed;
    private volatile Thread drainer;
    private final java.util.concurrent.atomic.AtomicBoolean drainerParked = new java.util.concurrent.atomic.AtomicBoolean();

    public FrameOutbox(int capacityPowerOfTwo) {
        memory = ByteBuffer.allocateDirect(capacityPowerOfTwo + RingBufferDescriptor.TRAILER_LENGTH);
        ring = new ManyToOneRingBuffer(new UnsafeBuffer(memory));
    }

    /**
     * Appends one frame of at most {@code maxFrameLength} bytes, written in place by {@code frame}.
     *
     * @return false when the outbox was closed (the session ended)
     */
    public boolean send(int maxFrameLength, FrameWriting frame) {
        long parked = 1_000;
        while (true) {
            if (closed) {
                return false;
            }
            int index = ring.tryClaim(FRAME_MESSAGE, maxFrameLength);
            if (index > 0) {
                try {
                    frame.write(memory, index);
                } catch (RuntimeException e) {
                    ring.abort(index);
                    throw e;
                }
                ring.commit(index); // the record may be longer than the frame: drainInto reads the frame's own length
                if (drainerParked.get()) {
                    LockSupport.unpark(drainer);
                }
                return true;
            }
            LockSupport.parkNanos(parked);
            parked = Math.min(parked * 2, 1_000_000);
        }
    }

    /**
     * Copies whole frames into {@code batch} (from its position) until it is full or the ring is empty;
     * returns how many frames were copied. Only the writer thread calls this.
     */
    public int drainInto(ByteBuffer batch) {
        return ring.controlledRead((type, buffer, index, length) -> {
            int frameLength = VsockFrame.HEADER_LENGTH + memory.getInt(index + VsockFrame.PAYLOAD_LENGTH_OFFSET);
            if (batch.remaining() < frameLength) {
                return ControlledMessageHandler.Action.ABORT; // stays for the next batch
            }
            batch.put(batch.position(), memory, index, frameLength);
            batch.position(batch.position() + frameLength);
            return ControlledMessageHandler.Action.CONTINUE;
        });
    }

    /**
     * Called by the writer thread when a drain found nothing: parks until a producer commits a frame.
     * The flag is raised before the last emptiness check, so a commit in between is never missed.
     */
    public void awaitFrames() {
        drainer = Thread.currentThread();
        drainerParked.set(true);
        if (isEmpty() && !closed) {
            LockSupport.parkNanos(100_000_000L);
        }
        drainerParked.set(false);
    }

    public boolean isEmpty() {
        return ring.size() == 0;
    }

    public void close() {
        closed = true;
        Thread waiting = drainer;
        if (waiting != null) {
            LockSupport.unpark(waiting);
        }
    }
}
