package dev.vnet.wire.vsock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The buffer shapes the vsock codecs must treat alike: heap or direct, either byte order (the wire is big-endian regardless). */
enum Shape {
    HEAP(false, ByteOrder.BIG_ENDIAN),
    DIRECT(true, ByteOrder.BIG_ENDIAN),
    HEAP_LITTLE_ENDIAN(false, ByteOrder.LITTLE_ENDIAN),
    DIRECT_LITTLE_ENDIAN(true, ByteOrder.LITTLE_ENDIAN);

    static final byte JUNK = (byte) 0xA5;

    private final boolean direct;
    private final ByteOrder order;

    Shape(boolean direct, ByteOrder order) {
        this.direct = direct;
        this.order = order;
    }

    /** A buffer full of junk, so reads at a wrong offset show. */
    ByteBuffer allocate(int capacity) {
        ByteBuffer buffer = (direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity)).order(order);
        for (int i = 0; i < capacity; i++) {
            buffer.put(i, JUNK);
        }
        return buffer;
    }

    /** {@code bytes[from, to)} at index {@code lead} of a junk-filled buffer, position and limit around them. */
    ByteBuffer holding(byte[] bytes, int from, int to, int lead) {
        ByteBuffer buffer = allocate(lead + (to - from) + 5);
        buffer.put(lead, bytes, from, to - from);
        buffer.limit(lead + (to - from));
        buffer.position(lead);
        return buffer;
    }
}
