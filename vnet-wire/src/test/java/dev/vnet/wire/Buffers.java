package dev.vnet.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** Test helpers: hex decoding and the buffer shapes every codec must handle alike. */
final class Buffers {
    private Buffers() {
    }

    /** Decodes hex, ignoring whitespace so packets can be laid out one header per line. */
    static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replaceAll("\\s+", ""));
    }

    /** Every combination of storage and byte order; codecs must read network order from all of them. */
    enum Kind {
        HEAP(false, ByteOrder.BIG_ENDIAN),
        DIRECT(true, ByteOrder.BIG_ENDIAN),
        HEAP_LITTLE_ENDIAN(false, ByteOrder.LITTLE_ENDIAN),
        DIRECT_LITTLE_ENDIAN(true, ByteOrder.LITTLE_ENDIAN);

        final boolean direct;
        final ByteOrder order;

        Kind(boolean direct, ByteOrder order) {
            this.direct = direct;
            this.order = order;
        }

        ByteBuffer allocate(int capacity) {
            ByteBuffer buffer = direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
            return buffer.order(order);
        }

        /** A buffer holding {@code bytes} at {@code offset}, with junk before and after to catch offset bugs. */
        ByteBuffer holding(byte[] bytes, int offset) {
            ByteBuffer buffer = allocate(offset + bytes.length + 7);
            for (int i = 0; i < buffer.capacity(); i++) {
                buffer.put(i, (byte) 0xA5);
            }
            buffer.put(offset, bytes);
            return buffer;
        }
    }

    /** (kind, offset) pairs for {@code @MethodSource("dev.vnet.wire.Buffers#shapes")}; 3 is deliberately unaligned. */
    static Stream<Arguments> shapes() {
        return Stream.of(Kind.values()).flatMap(kind -> Stream.of(0, 3, 64).map(offset -> Arguments.of(kind, offset)));
    }

    static byte[] bytes(ByteBuffer buffer, int index, int length) {
        byte[] out = new byte[length];
        buffer.get(index, out);
        return out;
    }
}
