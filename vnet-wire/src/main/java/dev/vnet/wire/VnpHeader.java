package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * The virtual network pair (VNP) packet: the payload of an underlay UDP datagram sent from the source
 * VM's host port to the destination VM's host port (seed 003, FIG. 5).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Token (64 bits)                        |
 * +                                                               +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Expiry (Unix seconds, unsigned; 0xFFFFFFFF = never)      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Version = 1  |   Flags   |C|O|          Reserved = 0         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Inner IPv4 packet (its length is its Total Length)     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Options, only when O is set: type (8) | length (8) | value   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * The options follow the inner packet, as in the seed: the receiver finds them from the inner packet's
 * own length, and a sender can leave them out (clear O) whenever they would push the datagram over the
 * underlay MTU. Option {@link #OPTION_RETURN_TOKEN} (length 12) carries the token and expiry the
 * receiver may use to answer the sender without asking the registry. Unknown option types are skipped
 * (senders may extend); an option running past the datagram, an empty option area with O set, or
 * bytes after the inner packet with O clear make the packet malformed. Flag {@link #FLAG_CHECKSUM_PARTIAL}
 * (C) says the inner TCP or UDP checksum holds only the pseudo-header sum, as a sender's kernel left it
 * with checksum offload: the receiver hands the packet to its VM marked so, and nobody ever sums the
 * payload.
 *
 * <p>{@link #wrap} validates the whole datagram layout once, so the getters never read outside it.
 */
public final class VnpHeader extends Flyweight {
    public static final int TOKEN_OFFSET = 0;
    public static final int EXPIRY_OFFSET = 8;
    public static final int VERSION_OFFSET = 12;
    public static final int FLAGS_OFFSET = 13;
    public static final int RESERVED_OFFSET = 14;
    public static final int LENGTH = 16;
    public static final int VERSION = 1;
    public static final int FLAG_OPTIONS = 0x01;
    public static final int FLAG_CHECKSUM_PARTIAL = 0x02;
    private static final int KNOWN_FLAGS = FLAG_OPTIONS | FLAG_CHECKSUM_PARTIAL;
    public static final long EXPIRY_NEVER = 0xFFFF_FFFFL;
    public static final int OPTION_HEADER_LENGTH = 2;
    public static final int OPTION_RETURN_TOKEN = 1;
    public static final int RETURN_TOKEN_VALUE_LENGTH = 12;
    /** Bytes a return-token option adds to a datagram. */
    public static final int RETURN_TOKEN_OPTION_LENGTH = OPTION_HEADER_LENGTH + RETURN_TOKEN_VALUE_LENGTH;
    /** Header plus the smallest IPv4 packet. */
    public static final int MIN_DATAGRAM_LENGTH = LENGTH + Ipv4Packet.MIN_HEADER_LENGTH;

    private int innerLength;
    private int returnTokenIndex;

    /** Points at one VNP datagram payload; false (and detached) if any part of its layout is malformed. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        if (!attach(buffer, offset, length, MIN_DATAGRAM_LENGTH)) {
            return false;
        }
        int flags = Bytes.u8(buffer, offset + FLAGS_OFFSET);
        int inner = offset + LENGTH;
        int end = offset + length;
        int versionAndIhl = Bytes.u8(buffer, inner);
        int totalLength = Bytes.u16(buffer, inner + Ipv4Packet.TOTAL_LENGTH_OFFSET);
        boolean valid = Bytes.u8(buffer, offset + VERSION_OFFSET) == VERSION
                && (flags & ~KNOWN_FLAGS) == 0
                && Bytes.u16(buffer, offset + RESERVED_OFFSET) == 0
                && (versionAndIhl >>> 4) == Ipv4Packet.VERSION
                && totalLength >= Ipv4Packet.MIN_HEADER_LENGTH
                && totalLength <= end - inner;
        returnTokenIndex = -1;
        if (valid) {
            int options = inner + totalLength;
            valid = (flags & FLAG_OPTIONS) == 0 ? options == end : options < end && scanOptions(buffer, options, end);
        }
        if (!valid) {
            detach();
            return false;
        }
        innerLength = totalLength;
        return true;
    }

    private boolean scanOptions(ByteBuffer buffer, int index, int end) {
        while (index < end) {
            if (end - index < OPTION_HEADER_LENGTH) {
                return false;
            }
            int type = Bytes.u8(buffer, index);
            int valueLength = Bytes.u8(buffer, index + 1);
            int value = index + OPTION_HEADER_LENGTH;
            if (valueLength > end - value) {
                return false;
            }
            if (type == OPTION_RETURN_TOKEN) {
                if (valueLength != RETURN_TOKEN_VALUE_LENGTH) {
                    return false;
                }
                returnTokenIndex = value;
            }
            index = value + valueLength;
        }
        return true;
    }

    @Override
    void detach() {
        super.detach();
        innerLength = 0;
        returnTokenIndex = -1;
    }

    public long token() {
        return Bytes.i64(buffer, offset + TOKEN_OFFSET);
    }

    /** Unix seconds, unsigned; {@link #EXPIRY_NEVER} means the token never expires. */
    public long expiry() {
        return Bytes.u32(buffer, offset + EXPIRY_OFFSET);
    }

    public int flags() {
        return Bytes.u8(buffer, offset + FLAGS_OFFSET);
    }

    public int innerOffset() {
        return offset + LENGTH;
    }

    public int innerLength() {
        return innerLength;
    }

    public boolean hasReturnToken() {
        return returnTokenIndex >= 0;
    }

    /** The return token (valid only when {@link #hasReturnToken()}). */
    public long returnToken() {
        return Bytes.i64(buffer, returnTokenIndex);
    }

    public long returnExpiry() {
        return Bytes.u32(buffer, returnTokenIndex + 8);
    }

    /** Writes the 16-byte header at {@code index}. */
    public static void write(ByteBuffer buffer, int index, long token, long expiry, int flags) {
        Bytes.put64(buffer, index + TOKEN_OFFSET, token);
        Bytes.put32(buffer, index + EXPIRY_OFFSET, (int) expiry);
        Bytes.put8(buffer, index + VERSION_OFFSET, VERSION);
        Bytes.put8(buffer, index + FLAGS_OFFSET, flags);
        Bytes.put16(buffer, index + RESERVED_OFFSET, 0);
    }

    /** Writes a return-token option at {@code index}; returns its length. */
    public static int writeReturnToken(ByteBuffer buffer, int index, long token, long expiry) {
        Bytes.put8(buffer, index, OPTION_RETURN_TOKEN);
        Bytes.put8(buffer, index + 1, RETURN_TOKEN_VALUE_LENGTH);
        Bytes.put64(buffer, index + OPTION_HEADER_LENGTH, token);
        Bytes.put32(buffer, index + OPTION_HEADER_LENGTH + 8, (int) expiry);
        return RETURN_TOKEN_OPTION_LENGTH;
    }
}
