package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Flyweight over an Ethernet II frame as seen by a TAP device or inside a vnet datagram: no
 * preamble, no frame check sequence.
 *
 * <pre>
 *   offset:  0                 6                 12      14
 *            +-----------------+-----------------+-------+-----------------------------+
 *            | destination MAC |   source MAC    | type  |  payload (46..1500 on wire) |
 *            |     6 bytes     |     6 bytes     |   2   |  length - 14 bytes          |
 *            +-----------------+-----------------+-------+-----------------------------+
 * </pre>
 *
 * <p>An 802.1Q tag ({@link #ETHER_TYPE_VLAN}) is reported as the EtherType and not parsed: vnet
 * does not carry tagged traffic, and callers drop what they do not understand. The payload is
 * everything after the header, including any padding a short frame was padded with; the inner
 * protocol's own length field says how much of it is meaningful.
 *
 * <h2>Usage contract (shared by every flyweight in this package)</h2>
 * <ul>
 *   <li>{@code wrap} re-points a reusable instance at {@code [offset, offset + length)} of a buffer and
 *       returns false for anything malformed or out of the buffer's limit, without throwing. After a
 *       false return the instance is detached and must be wrapped again before use.</li>
 *   <li>After a true return no getter throws, whatever the bytes are; all access is absolute and
 *       in network byte order regardless of {@link ByteBuffer#order()}, and nothing allocates.</li>
 *   <li>Offsets returned by {@code payloadOffset()} and similar are absolute buffer indexes.</li>
 * </ul>
 */
public final class EthernetFrame extends Flyweight {
    public static final int DESTINATION_OFFSET = 0;
    public static final int SOURCE_OFFSET = 6;
    public static final int ETHER_TYPE_OFFSET = 12;
    public static final int HEADER_LENGTH = 14;
    public static final int MIN_LENGTH = HEADER_LENGTH;

    public static final int ETHER_TYPE_IPV4 = 0x0800;
    public static final int ETHER_TYPE_ARP = 0x0806;
    public static final int ETHER_TYPE_IPV6 = 0x86DD;
    public static final int ETHER_TYPE_VLAN = 0x8100;

    /** Points this flyweight at a frame; false (and detached) if fewer than 14 bytes are available. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        return attach(buffer, offset, length, MIN_LENGTH);
    }

    public long destination() {
        return MacAddress.read(buffer, offset + DESTINATION_OFFSET);
    }

    public void destination(long mac) {
        MacAddress.write(buffer, offset + DESTINATION_OFFSET, mac);
    }

    public long source() {
        return MacAddress.read(buffer, offset + SOURCE_OFFSET);
    }

    public void source(long mac) {
        MacAddress.write(buffer, offset + SOURCE_OFFSET, mac);
    }

    public int etherType() {
        return Bytes.u16(buffer, offset + ETHER_TYPE_OFFSET);
    }

    public void etherType(int etherType) {
        Bytes.put16(buffer, offset + ETHER_TYPE_OFFSET, etherType);
    }

    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    public int payloadLength() {
        return length - HEADER_LENGTH;
    }

    /** Writes a 14-byte header at {@code index}; the payload is the caller's. */
    public static void writeHeader(ByteBuffer buffer, int index, long destination, long source, int etherType) {
        MacAddress.write(buffer, index + DESTINATION_OFFSET, destination);
        MacAddress.write(buffer, index + SOURCE_OFFSET, source);
        Bytes.put16(buffer, index + ETHER_TYPE_OFFSET, etherType);
    }
}
