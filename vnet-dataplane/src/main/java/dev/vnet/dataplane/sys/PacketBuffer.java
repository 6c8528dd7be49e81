package dev.vnet.dataplane.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One preallocated native buffer seen two ways: as a {@link ByteBuffer} for the codecs and as a raw
 * address for system calls. Each forwarding thread owns its buffers, so nothing is allocated per
 * packet and nothing is shared between threads.
 */
public final class PacketBuffer {
    private final MemorySegment segment;
    private final ByteBuffer buffer;
    private final long address;

    private PacketBuffer(MemorySegment segment) {
        this.segment = segment;
        this.buffer = segment.asByteBuffer();
        this.address = segment.address();
    }

    /** A buffer whose memory lives as long as the arena. */
    public static PacketBuffer allocate(Arena arena, int capacity) {
        return new PacketBuffer(arena.allocate(capacity, 64));
    }

    /** A buffer freed by the garbage collector once unreachable (tests, one-off control traffic). */
    public static PacketBuffer allocate(int capacity) {
        return allocate(Arena.ofAuto(), capacity);
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    public MemorySegment segment() {
        return segment;
    }

    /** The native address of byte {@code index}. */
    public long address(int index) {
        return address + index;
    }

    public int capacity() {
        return buffer.capacity();
    }
}
