package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Flyweight over a TCP segment header (RFC 9293).
 *
 * <pre>
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Source Port          |       Destination Port        |  0
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                        Sequence Number                        |  4
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Acknowledgment Number                      |  8
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Data |       |C|E|U|A|P|R|S|F|                               |
 *   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             | 12
 *   |       |       |R|E|G|K|H|T|N|N|                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Checksum            |         Urgent Pointer        | 16
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           Options (Data Offset > 5), up to 40 bytes           | 20
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                             data                              |
 * </pre>
 *
 * <p>TCP has no length field: the segment is exactly the {@code length} given to {@code wrap}, which
 * must be the IPv4 payload length (Total Length minus IHL*4), not the frame remainder. {@link #flags()}
 * is byte 13 only; the low bit of byte 12 (the old experimental NS flag) is reserved since RFC 8311.
 * Sequence and acknowledgment numbers are returned as unsigned {@code long}s because they are
 * compared modulo 2^32 and a negative {@code int} invites sign bugs.
 *
 * <p>The header length is validated and captured at wrap time, so option walking and the payload
 * offset cannot be pushed outside the wrapped range by rewriting the data offset afterwards.
 */
public final class TcpSegment extends Flyweight {
    public static final int SOURCE_PORT_OFFSET = 0;
    public static final int DESTINATION_PORT_OFFSET = 2;
    public static final int SEQUENCE_OFFSET = 4;
    public static final int ACKNOWLEDGMENT_OFFSET = 8;
    public static final int DATA_OFFSET_OFFSET = 12;
    public static final int FLAGS_OFFSET = 13;
    public static final int WINDOW_OFFSET = 14;
    public static final int CHECKSUM_OFFSET = 16;
    public static final int URGENT_POINTER_OFFSET = 18;
    public static final int OPTIONS_OFFSET = 20;
    public static final int MIN_HEADER_LENGTH = 20;
    public static final int MAX_HEADER_LENGTH = 60;

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    public static final int OPTION_END = 0;
    public static final int OPTION_NOP = 1;
    public static final int OPTION_MAXIMUM_SEGMENT_SIZE = 2;
    public static final int OPTION_WINDOW_SCALE = 3;
    public static final int OPTION_SACK_PERMITTED = 4;
    public static final int OPTION_TIMESTAMPS = 8;

    private int headerLength;

    /** False if fewer than 20 bytes, data offset below 5, or a header longer than the segment. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        if (!attach(buffer, offset, length, MIN_HEADER_LENGTH)) {
            return false;
        }
        int headerBytes = (Bytes.u8(buffer, offset + DATA_OFFSET_OFFSET) >>> 4) * 4;
        if (headerBytes < MIN_HEADER_LENGTH || headerBytes > length) {
            detach();
            return false;
        }
        this.headerLength = headerBytes;
        return true;
    }

    @Override
    void detach() {
        super.detach();
        headerLength = 0;
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

    public long sequence() {
        return Bytes.u32(buffer, offset + SEQUENCE_OFFSET);
    }

    public void sequence(long sequence) {
        Bytes.put32(buffer, offset + SEQUENCE_OFFSET, (int) sequence);
    }

    public long acknowledgment() {
        return Bytes.u32(buffer, offset + ACKNOWLEDGMENT_OFFSET);
    }

    public void acknowledgment(long acknowledgment) {
        Bytes.put32(buffer, offset + ACKNOWLEDGMENT_OFFSET, (int) acknowledgment);
    }

    /** Header length in bytes (data offset * 4), as validated by {@code wrap}. */
    public int headerLength() {
        return headerLength;
    }

    public int flags() {
        return Bytes.u8(buffer, offset + FLAGS_OFFSET);
    }

    public void flags(int flags) {
        Bytes.put8(buffer, offset + FLAGS_OFFSET, flags);
    }

    /** True when every bit of {@code mask} (e.g. {@code SYN | ACK}) is set. */
    public boolean hasFlags(int mask) {
        return (flags() & mask) == mask;
    }

    public int window() {
        return Bytes.u16(buffer, offset + WINDOW_OFFSET);
    }

    public void window(int window) {
        Bytes.put16(buffer, offset + WINDOW_OFFSET, window);
    }

    public int checksum() {
        return Bytes.u16(buffer, offset + CHECKSUM_OFFSET);
    }

    public void checksum(int checksum) {
        Bytes.put16(buffer, offset + CHECKSUM_OFFSET, checksum);
    }

    public int urgentPointer() {
        return Bytes.u16(buffer, offset + URGENT_POINTER_OFFSET);
    }

    public int payloadOffset() {
        return offset + headerLength;
    }

    public int payloadLength() {
        return length - headerLength;
    }

    /**
     * Absolute index of the first option of {@code kind} (pointing at its kind byte), or -1 if it
     * is absent or the option list is malformed before reaching it. Options are walked only inside
     * the validated header, so a hostile length byte ends the walk rather than reading past it.
     */
    public int optionOffset(int kind) {
        int at = offset + OPTIONS_OFFSET;
        int end = offset + headerLength;
        while (at < end) {
            int current = Bytes.u8(buffer, at);
            if (current == OPTION_END) {
                return -1;
            }
            if (current == OPTION_NOP) {
                at++;
                continue;
            }
            if (end - at < 2) {
                return -1;
            }
            int optionLength = Bytes.u8(buffer, at + 1);
            if (optionLength < 2 || optionLength > end - at) {
                return -1;
            }
            if (current == kind) {
                return at;
            }
            at += optionLength;
        }
        return -1;
    }

    /** The MSS option's value, or -1 if there is no well-formed one (only SYNs carry it). */
    public int maximumSegmentSize() {
        int at = optionOffset(OPTION_MAXIMUM_SEGMENT_SIZE);
        if (at < 0 || Bytes.u8(buffer, at + 1) != 4) {
            return -1;
        }
        return Bytes.u16(buffer, at + 2);
    }

    /** Checksum over the pseudo-header and the whole segment with the checksum field taken as zero. */
    public int computeChecksum(int sourceAddress, int destinationAddress) {
        int sum = InternetChecksum.pseudoHeaderSumIpv4(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_TCP, length)
            + InternetChecksum.sum(buffer, offset, CHECKSUM_OFFSET)
            + InternetChecksum.sum(buffer, offset + URGENT_POINTER_OFFSET, length - URGENT_POINTER_OFFSET);
        return InternetChecksum.fold(sum);
    }

    public boolean checksumValid(int sourceAddress, int destinationAddress) {
        int pseudo = InternetChecksum.pseudoHeaderSumIpv4(sourceAddress, destinationAddress, Ipv4Packet.PROTOCOL_TCP, length);
        return InternetChecksum.verifies(buffer, offset, length, pseudo);
    }

    public void updateChecksum(int sourceAddress, int destinationAddress) {
        checksum(computeChecksum(sourceAddress, destinationAddress));
    }

    /**
     * Writes a 20-byte header without options: data offset 5, checksum and urgent pointer 0. The
     * checksum needs the payload and addresses, so wrap and {@link #updateChecksum} once both are in place.
     */
    public static void writeHeader(ByteBuffer buffer, int index, int sourcePort, int destinationPort, long sequence,
                                   long acknowledgment, int flags, int window) {
        Bytes.put16(buffer, index + SOURCE_PORT_OFFSET, sourcePort);
        Bytes.put16(buffer, index + DESTINATION_PORT_OFFSET, destinationPort);
        Bytes.put32(buffer, index + SEQUENCE_OFFSET, (int) sequence);
        Bytes.put32(buffer, index + ACKNOWLEDGMENT_OFFSET, (int) acknowledgment);
        Bytes.put8(buffer, index + DATA_OFFSET_OFFSET, (MIN_HEADER_LENGTH / 4) << 4);
        Bytes.put8(buffer, index + FLAGS_OFFSET, flags);
        Bytes.put16(buffer, index + WINDOW_OFFSET, window);
        Bytes.put16(buffer, index + CHECKSUM_OFFSET, 0);
        Bytes.put16(buffer, index + URGENT_POINTER_OFFSET, 0);
    }
}
