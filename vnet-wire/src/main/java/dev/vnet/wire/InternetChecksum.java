package dev.vnet.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The RFC 1071 Internet checksum used by IPv4, ICMP, UDP and TCP.
 *
 * <pre>
 *   data (network order):  | w0 | w1 | w2 | ... | wn-1 | b  |    (odd length: b is padded as b,00)
 *
 *   sum      = w0 + w1 + ... + (b &lt;&lt; 8)   with end-around carry   (one's-complement addition)
 *   checksum = ~fold(sum) &amp; 0xFFFF                                   (what goes in the header)
 *
 *   A receiver sums the data including the checksum field; a correct packet sums to 0xFFFF,
 *   so fold() of it is 0.
 * </pre>
 *
 * <p>Checksums are built from partial sums so that a pseudo-header, a header and a payload can be
 * summed separately: {@code fold(pseudoHeaderSumIpv4(...) + sum(b, i, n))}. Every partial sum this
 * class returns is already reduced to {@code [0, 0xFFFF]}, so tens of thousands of them can be
 * added with plain {@code +} before {@link #fold} without overflowing.
 *
 * <p>{@link #sum} reads eight bytes at a time: one's-complement addition is associative and
 * commutative, so two 32-bit halves of a {@code long} can be added into a 64-bit accumulator and the
 * carries folded back at the end (RFC 1071 section 2). It is also byte-order independent (swapping
 * the bytes of every word swaps the bytes of the sum), which is how little-endian buffers are
 * handled: sum in the buffer's order, swap the 16-bit result once.
 */
public final class InternetChecksum {
    private InternetChecksum() {
    }

    /**
     * One's-complement sum of {@code [index, index + length)} as 16-bit network-order words, an odd
     * trailing byte padded with zero. The result is in {@code [0, 0xFFFF]} and not complemented.
     */
    public static int sum(ByteBuffer buffer, int index, int length) {
        long accumulator = 0;
        int at = index;
        int end = index + length;
        while (end - at >= Long.BYTES) {
            long eight = buffer.getLong(at);
            accumulator += (eight >>> 32) + (eight & 0xFFFF_FFFFL);
            at += Long.BYTES;
        }
        if (end - at >= Integer.BYTES) {
            accumulator += buffer.getInt(at) & 0xFFFF_FFFFL;
            at += Integer.BYTES;
        }
        if (end - at >= Short.BYTES) {
            accumulator += buffer.getShort(at) & 0xFFFF;
            at += Short.BYTES;
        }
        boolean bigEndian = buffer.order() == ByteOrder.BIG_ENDIAN;
        if (at < end) {
            // The odd byte is the high half of a network-order word; in a little-endian view of
            // the buffer that is the low half.
            int last = buffer.get(at) & 0xFF;
            accumulator += bigEndian ? last << 8 : last;
        }
        int folded = reduce(accumulator);
        return bigEndian ? folded : ((folded & 0xFF) << 8) | (folded >>> 8);
    }

    /**
     * Folds a sum (treated as an unsigned 32-bit value, e.g. several partial sums added together)
     * to 16 bits and complements it: the value to store in a checksum field.
     */
    public static int fold(int sum) {
        return ~reduce(sum & 0xFFFF_FFFFL) & 0xFFFF;
    }

    /** The final checksum of {@code [index, index + length)}: {@code fold(sum(...))}. */
    public static int checksum(ByteBuffer buffer, int index, int length) {
        return fold(sum(buffer, index, length));
    }

    /**
     * True when {@code [index, index + length)}, which includes its own checksum field, plus
     * {@code initialSum} (e.g. a pseudo-header sum, or 0) checks out. Accepts both one's-complement
     * zeros in the checksum field, as RFC 1624 asks receivers to.
     */
    public static boolean verifies(ByteBuffer buffer, int index, int length, int initialSum) {
        long total = (initialSum & 0xFFFF_FFFFL) + sum(buffer, index, length);
        return reduce(total) == 0xFFFF;
    }

    /**
     * The L4 checksum offset of an IPv4 protocol whose checksum a sender may leave partial (TCP, UDP),
     * or -1 for any other protocol.
     */
    public static int partialChecksumOffset(int protocol) {
        return protocol == Ipv4Packet.PROTOCOL_TCP ? TcpSegment.CHECKSUM_OFFSET
                : protocol == Ipv4Packet.PROTOCOL_UDP ? UdpDatagram.CHECKSUM_OFFSET : -1;
    }

    /**
     * What a NIC does for a partial checksum (the field holds the pseudo-header sum the sender left):
     * sum the L4 bytes from the header on, fold, store. A UDP result of zero is written as 0xFFFF,
     * because zero means "no checksum" there. Nothing happens for other protocols or a header too short
     * to hold the field.
     */
    public static void completePartial(ByteBuffer buffer, int l4Index, int l4Length, int protocol) {
        int checksumOffset = partialChecksumOffset(protocol);
        if (checksumOffset < 0 || l4Length < checksumOffset + 2) {
            return;
        }
        int checksum = fold(sum(buffer, l4Index, l4Length));
        if (protocol == Ipv4Packet.PROTOCOL_UDP && checksum == 0) {
            checksum = 0xFFFF;
        }
        Bytes.put16(buffer, l4Index + checksumOffset, checksum);
    }

    /**
     * Sum of the IPv4 pseudo-header that UDP and TCP checksums cover:
     *
     * <pre>
     * +--------+--------+--------+--------+
     * |          source address           |
     * +--------+--------+--------+--------+
     * |        destination address        |
     * +--------+--------+--------+--------+
     * |  zero  |protocol|  L4 length      |
     * +--------+--------+--------+--------+
     * </pre>
     *
     * @param length the UDP length or TCP segment length (header plus payload), in bytes
     */
    public static int pseudoHeaderSumIpv4(int source, int destination, int protocol, int length) {
        long sum = (source >>> 16) + (source & 0xFFFF)
            + (destination >>> 16) + (destination & 0xFFFF)
            + (protocol & 0xFF) + (length & 0xFFFF);
        return reduce(sum);
    }

    /**
     * Folds carries back in until the value fits 16 bits. A non-zero input never reduces to 0 (the
     * one's-complement "positive zero"), which is what makes {@link #verifies} exact.
     */
    private static int reduce(long sum) {
        long s = sum;
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }
}
