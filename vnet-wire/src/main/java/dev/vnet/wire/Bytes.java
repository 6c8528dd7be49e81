package dev.vnet.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Network-byte-order accessors shared by every codec of vnet-wire (this package and its sub-packages).
 *
 * <p>Every read and write is absolute (the buffer's position and limit are never touched) and
 * big-endian whatever {@link ByteBuffer#order()} says. We use the buffer's own wide accessors and
 * swap when the buffer is little-endian, rather than assembling values byte by byte: a wide access
 * is a single bounds check and a single load, and {@code order()} is a plain field read, so on a
 * big-endian buffer (the normal case) the swap branch is never taken and costs nothing. The order
 * is checked on every access rather than cached at wrap time so that a caller who changes the
 * buffer's order between packets can never get silently byte-swapped values.
 *
 * <p>Accessors do no range checking of their own; {@link #fits} is what every {@code wrap} uses so
 * that, once a wrap succeeded, every accessor stays inside {@code [0, limit)}. Bounds are checked
 * against the limit, not the capacity, because absolute {@link ByteBuffer} access throws beyond the
 * limit.
 */
public final class Bytes {
    private Bytes() {
    }

    /** True when {@code [offset, offset + length)} lies inside {@code [0, limit)}; never throws. */
    public static boolean fits(ByteBuffer buffer, int offset, int length) {
        // offset <= limit - length cannot overflow because limit and length are both non-negative.
        return buffer != null && offset >= 0 && length >= 0 && offset <= buffer.limit() - length;
    }

    public static int u8(ByteBuffer buffer, int index) {
        return buffer.get(index) & 0xFF;
    }

    public static int u16(ByteBuffer buffer, int index) {
        short value = buffer.getShort(index);
        if (buffer.order() != ByteOrder.BIG_ENDIAN) {
            value = Short.reverseBytes(value);
        }
        return value & 0xFFFF;
    }

    public static int i32(ByteBuffer buffer, int index) {
        int value = buffer.getInt(index);
        return buffer.order() == ByteOrder.BIG_ENDIAN ? value : Integer.reverseBytes(value);
    }

    public static long u32(ByteBuffer buffer, int index) {
        return i32(buffer, index) & 0xFFFF_FFFFL;
    }

    public static void put8(ByteBuffer buffer, int index, int value) {
        buffer.put(index, (byte) value);
    }

    public static void put16(ByteBuffer buffer, int index, int value) {
        short v = (short) value;
        buffer.putShort(index, buffer.order() == ByteOrder.BIG_ENDIAN ? v : Short.reverseBytes(v));
    }

    public static void put32(ByteBuffer buffer, int index, int value) {
        buffer.putInt(index, buffer.order() == ByteOrder.BIG_ENDIAN ? value : Integer.reverseBytes(value));
    }

    public static long i64(ByteBuffer buffer, int index) {
        long value = buffer.getLong(index);
        return buffer.order() == ByteOrder.BIG_ENDIAN ? value : Long.reverseBytes(value);
    }

    public static void put64(ByteBuffer buffer, int index, long value) {
        buffer.putLong(index, buffer.order() == ByteOrder.BIG_ENDIAN ? value : Long.reverseBytes(value));
    }
}
