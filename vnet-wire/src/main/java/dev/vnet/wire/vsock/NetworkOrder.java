package dev.vnet.wire.vsock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Big-endian absolute accessors for the vsock codecs, the same rules as {@code dev.vnet.wire.Bytes}:
 * network order whatever {@link ByteBuffer#order()} says, position and limit never touched, no range
 * checks of their own ({@link #fits} is what callers check first). A copy rather than a shared class
 * because {@code Bytes} is package-private to {@code dev.vnet.wire}, and making it public would make
 * it part of the wire module's API, which is its codecs.
 */
final class NetworkOrder {
    private NetworkOrder() {
    }

    /** True when {@code [offset, offset + length)} lies inside {@code [0, limit)}; never throws. */
    static boolean fits(ByteBuffer buffer, int offset, int length) {
        return buffer != null && offset >= 0 && length >= 0 && offset <= buffer.limit() - length;
    }

    static int u8(ByteBuffer buffer, int index) {
        return buffer.get(index) & 0xFF;
    }

    static int u16(ByteBuffer buffer, int index) {
        short value = buffer.getShort(index);
        if (buffer.order() != ByteOrder.BIG_ENDIAN) {
            value = Short.reverseBytes(value);
        }
        return value & 0xFFFF;
    }

    static int i32(ByteBuffer buffer, int index) {
        int value = buffer.getInt(index);
        return buffer.order() == ByteOrder.BIG_ENDIAN ? value : Integer.reverseBytes(value);
    }

    static long u32(ByteBuffer buffer, int index) {
        return i32(buffer, index) & 0xFFFF_FFFFL;
    }

    static void put8(ByteBuffer buffer, int index, int value) {
        buffer.put(index, (byte) value);
    }

    static void put16(ByteBuffer buffer, int index, int value) {
        short v = (short) value;
        buffer.putShort(index, buffer.order() == ByteOrder.BIG_ENDIAN ? v : Short.reverseBytes(v));
    }

    static void put32(ByteBuffer buffer, int index, int value) {
        buffer.putInt(index, buffer.order() == ByteOrder.BIG_ENDIAN ? value : Integer.reverseBytes(value));
    }
}
