package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Flyweight over an ICMP (v4) message (RFC 792), with the echo request/reply fields vnet's
 * gateway answers.
 *
 * <pre>
 *   offset:  0      1      2             4             6             8
 *            +------+------+-------------+-------------+-------------+------------------+
 *            | type | code |  checksum   | identifier  |  sequence   |  data            |
 *            +------+------+-------------+-------------+-------------+------------------+
 *            |&lt;------------------- checksum covers [offset, offset + length) -----------&gt;|
 * </pre>
 *
 * <p>Bytes 4..7 are the "rest of header"; {@link #identifier()} and {@link #sequence()} give them
 * echo semantics and are meaningless for other types. ICMP has no length field, so the message is
 * exactly the {@code length} given to {@code wrap}: pass the IPv4 payload length, not the frame
 * remainder, or Ethernet padding would be summed into the checksum.
 */
public final class IcmpPacket extends Flyweight {
    public static final int TYPE_OFFSET = 0;
    public static final int CODE_OFFSET = 1;
    public static final int CHECKSUM_OFFSET = 2;
    public static final int IDENTIFIER_OFFSET = 4;
    public static final int SEQUENCE_OFFSET = 6;
    public static final int HEADER_LENGTH = 8;

    public static final int TYPE_ECHO_REPLY = 0;
    public static final int TYPE_DESTINATION_UNREACHABLE = 3;
    public static final int TYPE_ECHO_REQUEST = 8;
    public static final int TYPE_TIME_EXCEEDED = 11;

    /** False if fewer than 8 bytes are available. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        return attach(buffer, offset, length, HEADER_LENGTH);
    }

    public int type() {
        return Bytes.u8(buffer, offset + TYPE_OFFSET);
    }

    public void type(int type) {
        Bytes.put8(buffer, offset + TYPE_OFFSET, type);
    }

    public int code() {
        return Bytes.u8(buffer, offset + CODE_OFFSET);
    }

    public void code(int code) {
        Bytes.put8(buffer, offset + CODE_OFFSET, code);
    }

    public int checksum() {
        return Bytes.u16(buffer, offset + CHECKSUM_OFFSET);
    }

    public void checksum(int checksum) {
        Bytes.put16(buffer, offset + CHECKSUM_OFFSET, checksum);
    }

    public int identifier() {
        return Bytes.u16(buffer, offset + IDENTIFIER_OFFSET);
    }

    public void identifier(int identifier) {
        Bytes.put16(buffer, offset + IDENTIFIER_OFFSET, identifier);
    }

    public int sequence() {
        return Bytes.u16(buffer, offset + SEQUENCE_OFFSET);
    }

    public void sequence(int sequence) {
        Bytes.put16(buffer, offset + SEQUENCE_OFFSET, sequence);
    }

    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    public int payloadLength() {
        return length - HEADER_LENGTH;
    }

    /** Checksum of the whole message with the checksum field taken as zero. */
    public int computeChecksum() {
        int sum = InternetChecksum.sum(buffer, offset, CHECKSUM_OFFSET)
            + InternetChecksum.sum(buffer, offset + IDENTIFIER_OFFSET, length - IDENTIFIER_OFFSET);
        return InternetChecksum.fold(sum);
    }

    /** Verifies the checksum over {@code [offset, offset + length)}. */
    public boolean checksumValid() {
        return InternetChecksum.verifies(buffer, offset, length, 0);
    }

    public void updateChecksum() {
        checksum(computeChecksum());
    }
}
