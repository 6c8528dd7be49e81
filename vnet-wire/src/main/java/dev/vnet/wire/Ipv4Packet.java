package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Flyweight over an IPv4 header (RFC 791).
 *
 * <pre>
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |Type of Service|          Total Length         |  0
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Identification        |0|D|M|     Fragment Offset     |  4
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Time to Live |    Protocol   |         Header Checksum       |  8
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Source Address                          | 12
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination Address                        | 16
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |              Options (IHL > 5), up to 40 bytes                | 20
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  payload: Total Length - IHL*4 bytes, then any link padding   |
 * </pre>
 *
 * <p>{@code length} passed to {@code wrap} is what the link layer delivered, which may exceed Total
 * Length because Ethernet pads short frames to 60 bytes; the payload is bounded by Total Length,
 * never by {@code length}. A Total Length larger than what arrived is a truncated packet and
 * rejected.
 *
 * <p>The header length is validated and captured at wrap time and everything that decides which
 * bytes are read (payload offset, checksum range) uses that captured value, so rewriting the IHL
 * nibble in the buffer afterwards cannot push a read outside the wrapped range. Total Length is read
 * live because it has a setter. The header checksum is not checked by {@code wrap}; callers that
 * care call {@link #headerChecksumValid()} (a forwarding path that rewrites TTL recomputes it anyway).
 */
public final class Ipv4Packet extends Flyweight {
    public static final int VERSION_AND_HEADER_LENGTH_OFFSET = 0;
    public static final int TYPE_OF_SERVICE_OFFSET = 1;
    public static final int TOTAL_LENGTH_OFFSET = 2;
    public static final int IDENTIFICATION_OFFSET = 4;
    public static final int FLAGS_AND_FRAGMENT_OFFSET_OFFSET = 6;
    public static final int TTL_OFFSET = 8;
    public static final int PROTOCOL_OFFSET = 9;
    public static final int HEADER_CHECKSUM_OFFSET = 10;
    public static final int SOURCE_OFFSET = 12;
    public static final int DESTINATION_OFFSET = 16;
    public static final int MIN_HEADER_LENGTH = 20;
    public static final int MAX_HEADER_LENGTH = 60;

    public static final int VERSION = 4;
    public static final int PROTOCOL_ICMP = 1;
    public static final int PROTOCOL_TCP = 6;
    public static final int PROTOCOL_UDP = 17;

    public static final int FLAG_DONT_FRAGMENT = 0x4000;
    public static final int FLAG_MORE_FRAGMENTS = 0x2000;
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    private int headerLength;

    /**
     * False if fewer than 20 bytes, version is not 4, IHL &lt; 5, the header is longer than
     * {@code length}, or Total Length is shorter than the header or longer than {@code length}.
     */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        if (!attach(buffer, offset, length, MIN_HEADER_LENGTH)) {
            return false;
        }
        int versionAndHeaderLength = Bytes.u8(buffer, offset + VERSION_AND_HEADER_LENGTH_OFFSET);
        int headerBytes = (versionAndHeaderLength & 0x0F) * 4;
        int total = Bytes.u16(buffer, offset + TOTAL_LENGTH_OFFSET);
        if ((versionAndHeaderLength >>> 4) != VERSION
            || headerBytes < MIN_HEADER_LENGTH
            || headerBytes > length
            || total < headerBytes
            || total > length) {
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

    public int version() {
        return Bytes.u8(buffer, offset + VERSION_AND_HEADER_LENGTH_OFFSET) >>> 4;
    }

    /** Header length in bytes (IHL * 4), as validated by {@code wrap}. */
    public int headerLength() {
        return headerLength;
    }

    public int typeOfService() {
        return Bytes.u8(buffer, offset + TYPE_OF_SERVICE_OFFSET);
    }

    /** Read live; {@code wrap} required it to be at most {@link #length()}, which also counts any link padding. */
    public int totalLength() {
        return Bytes.u16(buffer, offset + TOTAL_LENGTH_OFFSET);
    }

    public void totalLength(int totalLength) {
        Bytes.put16(buffer, offset + TOTAL_LENGTH_OFFSET, totalLength);
    }

    public int identification() {
        return Bytes.u16(buffer, offset + IDENTIFICATION_OFFSET);
    }

    public void identification(int identification) {
        Bytes.put16(buffer, offset + IDENTIFICATION_OFFSET, identification);
    }

    public boolean dontFragment() {
        return (flagsAndFragmentOffset() & FLAG_DONT_FRAGMENT) != 0;
    }

    public boolean moreFragments() {
        return (flagsAndFragmentOffset() & FLAG_MORE_FRAGMENTS) != 0;
    }

    /** Fragment offset in bytes (the field counts 8-byte units). */
    public int fragmentOffset() {
        return (flagsAndFragmentOffset() & FRAGMENT_OFFSET_MASK) * 8;
    }

    /** True for any piece of a fragmented datagram, first piece included (MF set or offset non-zero). */
    public boolean isFragment() {
        return (flagsAndFragmentOffset() & (FLAG_MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK)) != 0;
    }

    private int flagsAndFragmentOffset() {
        return Bytes.u16(buffer, offset + FLAGS_AND_FRAGMENT_OFFSET_OFFSET);
    }

    public int ttl() {
        return Bytes.u8(buffer, offset + TTL_OFFSET);
    }

    public void ttl(int ttl) {
        Bytes.put8(buffer, offset + TTL_OFFSET, ttl);
    }

    public int protocol() {
        return Bytes.u8(buffer, offset + PROTOCOL_OFFSET);
    }

    public void protocol(int protocol) {
        Bytes.put8(buffer, offset + PROTOCOL_OFFSET, protocol);
    }

    public int headerChecksum() {
        return Bytes.u16(buffer, offset + HEADER_CHECKSUM_OFFSET);
    }

    public void headerChecksum(int checksum) {
        Bytes.put16(buffer, offset + HEADER_CHECKSUM_OFFSET, checksum);
    }

    public int source() {
        return Ipv4Address.read(buffer, offset + SOURCE_OFFSET);
    }

    public void source(int address) {
        Ipv4Address.write(buffer, offset + SOURCE_OFFSET, address);
    }

    public int destination() {
        return Ipv4Address.read(buffer, offset + DESTINATION_OFFSET);
    }

    public void destination(int address) {
        Ipv4Address.write(buffer, offset + DESTINATION_OFFSET, address);
    }

    public int payloadOffset() {
        return offset + headerLength;
    }

    /**
     * Total Length minus the header length. Read live from the Total Length field, so after
     * {@link #totalLength(int)} it follows the new value; it is only guaranteed to lie inside the
     * wrapped range for the Total Length {@code wrap} validated.
     */
    public int payloadLength() {
        return totalLength() - headerLength;
    }

    /** RFC 1071 checksum of the header (options included) with the checksum field taken as zero. */
    public int computeHeaderChecksum() {
        int sum = InternetChecksum.sum(buffer, offset, HEADER_CHECKSUM_OFFSET)
            + InternetChecksum.sum(buffer, offset + SOURCE_OFFSET, headerLength - SOURCE_OFFSET);
        return InternetChecksum.fold(sum);
    }

    public boolean headerChecksumValid() {
        return InternetChecksum.verifies(buffer, offset, headerLength, 0);
    }

    public void updateHeaderChecksum() {
        headerChecksum(computeHeaderChecksum());
    }

    /**
     * Writes a 20-byte header without options: version 4, IHL 5, TOS 0, DF set (vnet never
     * fragments; path MTU discovery is the sender's job), fragment offset 0 and a correct checksum.
     */
    public static void writeHeader(ByteBuffer buffer, int index, int totalLength, int identification, int ttl,
                                   int protocol, int source, int destination) {
        Bytes.put8(buffer, index + VERSION_AND_HEADER_LENGTH_OFFSET, (VERSION << 4) | (MIN_HEADER_LENGTH / 4));
        Bytes.put8(buffer, index + TYPE_OF_SERVICE_OFFSET, 0);
        Bytes.put16(buffer, index + TOTAL_LENGTH_OFFSET, totalLength);
        Bytes.put16(buffer, index + IDENTIFICATION_OFFSET, identification);
        Bytes.put16(buffer, index + FLAGS_AND_FRAGMENT_OFFSET_OFFSET, FLAG_DONT_FRAGMENT);
        Bytes.put8(buffer, index + TTL_OFFSET, ttl);
        Bytes.put8(buffer, index + PROTOCOL_OFFSET, protocol);
        Bytes.put16(buffer, index + HEADER_CHECKSUM_OFFSET, 0);
        Ipv4Address.write(buffer, index + SOURCE_OFFSET, source);
        Ipv4Address.write(buffer, index + DESTINATION_OFFSET, destination);
        Bytes.put16(buffer, index + HEADER_CHECKSUM_OFFSET, InternetChecksum.checksum(buffer, index, MIN_HEADER_LENGTH));
    }
}
