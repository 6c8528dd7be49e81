package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Flyweight over vnet's encapsulation header: the first 8 bytes of every underlay UDP datagram
 * (destination port {@link #DEFAULT_PORT} unless configured), immediately followed by the inner
 * Ethernet frame. See {@code docs/wire.md}.
 *
 * <pre>
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Magic 0x56   |  Version (1)  | Next hdr (1)  | Reserved (0)  |  0
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |            Virtual network id (uint32, 0 is invalid)          |  4
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        inner Ethernet frame (14-byte header + payload)        |  8
 *   |                              ...                              |
 * </pre>
 *
 * <p>Why each field exists:
 * <ul>
 *   <li>Magic ({@code 'V'}) makes stray traffic to the port (scanners, a misdirected VXLAN or
 *       WireGuard peer) fail on the first byte, cheaply and unambiguously.</li>
 *   <li>Version lets a future incompatible layout be rejected rather than misparsed.</li>
 *   <li>Next header names the inner protocol so that something other than Ethernet (e.g. bare IP)
 *       can be added without a version bump; today only Ethernet is accepted.</li>
 *   <li>Reserved must be zero so that it can be given a meaning later: old receivers then drop
 *       what they cannot understand instead of silently ignoring it.</li>
 *   <li>The network id is a full 32 bits (VXLAN's is 24) so ids never need recycling; 0 is
 *       reserved as "no network" so a zeroed buffer can never be accepted as traffic.</li>
 * </ul>
 * The header is 8 bytes, the same as VXLAN's, so the familiar 50-byte overhead (20 IPv4 + 8 UDP +
 * 8 header + 14 inner Ethernet) and the resulting 1450-byte inner MTU on a 1500-byte underlay carry
 * over; the network id sits at a 4-byte-aligned offset.
 *
 * <p>{@link #check} classifies a datagram without side effects so that the receiver can count
 * drops per {@link Verdict}; {@link #wrap} is {@code check(...) == Verdict.ACCEPTED} plus re-pointing.
 */
public final class VnetHeader extends Flyweight {
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 1;
    public static final int NEXT_HEADER_OFFSET = 2;
    public static final int RESERVED_OFFSET = 3;
    public static final int NETWORK_ID_OFFSET = 4;
    public static final int LENGTH = 8;

    public static final int MAGIC = 0x56;
    public static final int VERSION = 1;
    public static final int NEXT_HEADER_ETHERNET = 1;
    public static final int DEFAULT_PORT = 47900;

    /** Shortest acceptable datagram payload: this header plus an inner Ethernet header. */
    public static final int MIN_DATAGRAM_LENGTH = LENGTH + EthernetFrame.MIN_LENGTH;

    /**
     * Outcome of {@link #check}, one constant per reason a datagram is dropped so receivers can
     * keep a counter per reason (e.g. a {@code long[]} indexed by {@link #ordinal()}).
     */
    public enum Verdict {
        ACCEPTED,
        /** {@code offset}/{@code length} do not lie inside the buffer's limit (a caller bug, not traffic). */
        OUT_OF_BOUNDS,
        /** Fewer than {@link #MIN_DATAGRAM_LENGTH} bytes. */
        TOO_SHORT,
        BAD_MAGIC,
        UNSUPPORTED_VERSION,
        UNKNOWN_NEXT_HEADER,
        RESERVED_NOT_ZERO,
        ZERO_NETWORK_ID
    }

    /**
     * Classifies the datagram payload in {@code [offset, offset + length)}; never throws. Checks run
     * in header order, so the verdict names the first thing wrong.
     */
    public static Verdict check(ByteBuffer buffer, int offset, int length) {
        if (!Bytes.fits(buffer, offset, length)) {
            return Verdict.OUT_OF_BOUNDS;
        }
        if (length < MIN_DATAGRAM_LENGTH) {
            return Verdict.TOO_SHORT;
        }
        if (Bytes.u8(buffer, offset + MAGIC_OFFSET) != MAGIC) {
            return Verdict.BAD_MAGIC;
        }
        if (Bytes.u8(buffer, offset + VERSION_OFFSET) != VERSION) {
            return Verdict.UNSUPPORTED_VERSION;
        }
        if (Bytes.u8(buffer, offset + NEXT_HEADER_OFFSET) != NEXT_HEADER_ETHERNET) {
            return Verdict.UNKNOWN_NEXT_HEADER;
        }
        if (Bytes.u8(buffer, offset + RESERVED_OFFSET) != 0) {
            return Verdict.RESERVED_NOT_ZERO;
        }
        if (Bytes.i32(buffer, offset + NETWORK_ID_OFFSET) == 0) {
            return Verdict.ZERO_NETWORK_ID;
        }
        return Verdict.ACCEPTED;
    }

    /** True if {@link #check} accepts the bytes; otherwise false and detached. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        if (check(buffer, offset, length) != Verdict.ACCEPTED) {
            detach();
            return false;
        }
        // check() has already applied the bounds and minimum-length rule, so this cannot fail.
        return attach(buffer, offset, length, MIN_DATAGRAM_LENGTH);
    }

    /** The raw 32 bits; treat as unsigned ({@link Integer#toUnsignedString(int)} to print). */
    public int networkId() {
        return Bytes.i32(buffer, offset + NETWORK_ID_OFFSET);
    }

    /** Absolute index of the inner Ethernet frame. */
    public int innerOffset() {
        return offset + LENGTH;
    }

    /** Length of the inner Ethernet frame; at least {@link EthernetFrame#MIN_LENGTH} after a successful wrap. */
    public int innerLength() {
        return length - LENGTH;
    }

    /**
     * Writes the 8-byte header for {@code networkId} at {@code index}; the inner frame follows at
     * {@code index + 8}. Not validated: a network id of 0 yields a header every receiver drops.
     */
    public static void write(ByteBuffer buffer, int index, int networkId) {
        Bytes.put8(buffer, index + MAGIC_OFFSET, MAGIC);
        Bytes.put8(buffer, index + VERSION_OFFSET, VERSION);
        Bytes.put8(buffer, index + NEXT_HEADER_OFFSET, NEXT_HEADER_ETHERNET);
        Bytes.put8(buffer, index + RESERVED_OFFSET, 0);
        Bytes.put32(buffer, index + NETWORK_ID_OFFSET, networkId);
    }
}
