package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Flyweight over a UDP datagram (RFC 768).
 *
 * <pre>
 *   offset:  0             2             4             6             8
 *            +-------------+-------------+-------------+-------------+------------------------+
 *            | source port |  dest port  |   length    |  checksum   |  payload               |
 *            +-------------+-------------+-------------+-------------+------------------------+
 *            |&lt;----------------------- length field (header + payload) -------------------&gt;|
 * </pre>
 *
 * <p>{@code length} given to {@code wrap} is what IPv4 says follows its header. The UDP length field
 * is authoritative for the payload and may be shorter than that (the rest is ignored), never
 * longer. The checksum covers the IPv4 pseudo-header, so computing or verifying it needs the
 * addresses from the enclosing packet. A checksum field of zero means "not computed" (legal over
 * IPv4), and a computed checksum of zero is sent as 0xFFFF so it is not mistaken for that.
 */
public final class UdpDatagram extends Flyweight {
    public static final int SOURCE_PORT_OFFSET = 0;
    public static final int DESTINATION_PORT_OFFSET = 2;
    public static final int LENGTH_OFFSET = 4;
    public static final int CHECKSUM_OFFSET = 6;
    public static final int HEADER_LENGTH = 8;

    /** False if fewer than 8 bytes, or the length field is below 8 or beyond the available bytes. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        if (!attach(buffer, offset, length, HEADER_LENGTH)) {
            return false;
        }
        int lengthField = Bytes.u16(buffer, offset + LENGTH_OFFSET);
        if (lengthField < HEADER_LENGTH || lengthField > length) {
            detach();
            return false;
        }
        return true;
    }

    public int sourcePort() {
        return Bytes.u16(buffer, offset + SOURCE_PORT_OFFSET);
    }

    public void sourcePort(int port) {
        Bytes.put16(buffer, offset + SOURCE_PORT_OFFSET, port);
    }

    public int destinationPort() {
        return Bytes.u16(buffer, offset + DESTINATION_PORT_OFFSET);
    }

    public void destinationPort(int port) {
        Bytes.put16(buffer, offset + DESTINATION_PORT_OFFSET, port);
    }

    /** Read live; {@code wrap} required it to be at most {@link #length()}, the bytes available at wrap time. */
    public int lengthField() {
        return Bytes.u16(buffer, offset + LENGTH_OFFSET);
    }

    public void lengthField(int lengthField) {
        Bytes.put16(buffer, offset + LENGTH_OFFSET, lengthField);
    }

    public int checksum() {
        return Bytes.u16(buffer, offset + CHECKSUM_OFFSET);
    }

    public void checksum(int checksum) {
        Bytes.put16(buffer, offset + CHECKSUM_OFFSET, checksum);
    }

    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    /** Length field minus the header, read live so it follows {@link #lengthField(int)}. */
    public int payloadLength() {
        return lengthField() - HEADER_LENGTH;
    }

    /**
     * Checksum over the pseudo-header, header (checksum field as zero) and payload, 0 mapped to
     * 0xFFFF. Covers the length field's worth of bytes, kept inside the wrapped range so that a
     * length set through the setter cannot make it read past it.
     */
    public int computeChecksum(int sourceAddress, int destinationAddress) {
        int covered = coveredLength();
        int sum = InternetChecksum.pseudoHeaderSumIpv4(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_UDP, covered)
            + InternetChecksum.sum(buffer, offset, CHECKSUM_OFFSET)
            + InternetChecksum.sum(buffer, offset + HEADER_LENGTH, covered - HEADER_LENGTH);
        int checksum = InternetChecksum.fold(sum);
        return checksum == 0 ? 0xFFFF : checksum;
    }

    /** True if the checksum field is zero (not computed) or verifies against the pseudo-header. */
    public boolean checksumValid(int sourceAddress, int destinationAddress) {
        if (checksum() == 0) {
            return true;
        }
        int covered = coveredLength();
        int pseudo = InternetChecksum.pseudoHeaderSumIpv4(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_UDP, covered);
        return InternetChecksum.verifies(buffer, offset, covered, pseudo);
    }

    public void updateChecksum(int sourceAddress, int destinationAddress) {
        checksum(computeChecksum(sourceAddress, destinationAddress));
    }

    private int coveredLength() {
        return Math.min(Math.max(lengthField(), HEADER_LENGTH), length);
    }

    /** Writes an 8-byte header with length {@code payloadLength + 8} and checksum 0 (not computed). */
    public static void writeHeader(ByteBuffer buffer, int index, int sourcePort, int destinationPort, int payloadLength) {
        Bytes.put16(buffer, index + SOURCE_PORT_OFFSET, sourcePort);
        Bytes.put16(buffer, index + DESTINATION_PORT_OFFSET, destinationPort);
        Bytes.put16(buffer, index + LENGTH_OFFSET, payloadLength + HEADER_LENGTH);
        Bytes.put16(buffer, index + CHECKSUM_OFFSET, 0);
    }
}
