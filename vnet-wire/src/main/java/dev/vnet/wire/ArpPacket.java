package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Flyweight over an ARP packet for IPv4 over Ethernet (RFC 826), the only kind vnet answers.
 *
 * <pre>
 *   offset:  0       2       4   5   6       8                 14        18                24        28
 *            +-------+-------+---+---+-------+-----------------+---------+-----------------+---------+
 *            | htype | ptype |hln|pln|  op   |   sender MAC    |sender IP|   target MAC    |target IP|
 *            |   1   |0x0800 | 6 | 4 | 1 / 2 |     6 bytes     | 4 bytes |     6 bytes     | 4 bytes |
 *            +-------+-------+---+---+-------+-----------------+---------+-----------------+---------+
 * </pre>
 *
 * <p>{@code wrap} insists on exactly the Ethernet/IPv4 hardware and protocol types and sizes, so the
 * fixed offsets above are always right for a wrapped packet. The operation is not checked: callers
 * act on {@link #OP_REQUEST} and {@link #OP_REPLY} and ignore the rest. Trailing bytes (Ethernet
 * padding, 18 bytes of it for a minimum-size frame) are allowed.
 */
public final class ArpPacket extends Flyweight {
    public static final int HARDWARE_TYPE_OFFSET = 0;
    public static final int PROTOCOL_TYPE_OFFSET = 2;
    public static final int HARDWARE_LENGTH_OFFSET = 4;
    public static final int PROTOCOL_LENGTH_OFFSET = 5;
    public static final int OPERATION_OFFSET = 6;
    public static final int SENDER_MAC_OFFSET = 8;
    public static final int SENDER_IP_OFFSET = 14;
    public static final int TARGET_MAC_OFFSET = 18;
    public static final int TARGET_IP_OFFSET = 24;
    public static final int LENGTH = 28;

    public static final int HARDWARE_TYPE_ETHERNET = 1;
    public static final int PROTOCOL_TYPE_IPV4 = EthernetFrame.ETHER_TYPE_IPV4;
    public static final int OP_REQUEST = 1;
    public static final int OP_REPLY = 2;

    /** False unless at least 28 bytes hold an Ethernet (htype 1, hlen 6) / IPv4 (ptype 0x0800, plen 4) ARP header. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        if (!attach(buffer, offset, length, LENGTH)) {
            return false;
        }
        if (Bytes.u16(buffer, offset + HARDWARE_TYPE_OFFSET) != HARDWARE_TYPE_ETHERNET
            || Bytes.u16(buffer, offset + PROTOCOL_TYPE_OFFSET) != PROTOCOL_TYPE_IPV4
            || Bytes.u8(buffer, offset + HARDWARE_LENGTH_OFFSET) != MacAddress.LENGTH
            || Bytes.u8(buffer, offset + PROTOCOL_LENGTH_OFFSET) != Ipv4Address.LENGTH) {
            detach();
            return false;
        }
        return true;
    }

    public int operation() {
        return Bytes.u16(buffer, offset + OPERATION_OFFSET);
    }

    public long senderMac() {
        return MacAddress.read(buffer, offset + SENDER_MAC_OFFSET);
    }

    public int senderIp() {
        return Ipv4Address.read(buffer, offset + SENDER_IP_OFFSET);
    }

    public long targetMac() {
        return MacAddress.read(buffer, offset + TARGET_MAC_OFFSET);
    }

    public int targetIp() {
        return Ipv4Address.read(buffer, offset + TARGET_IP_OFFSET);
    }

    /** Writes a complete 28-byte reply: "{@code senderIp} is at {@code senderMac}", addressed to the target. */
    public static void writeReply(ByteBuffer buffer, int index, long senderMac, int senderIp, long targetMac, int targetIp) {
        write(buffer, index, OP_REPLY, senderMac, senderIp, targetMac, targetIp);
    }

    /** Writes a complete 28-byte request: "who has {@code targetIp}?"; the target MAC is zero, as RFC 826 leaves it unknown. */
    public static void writeRequest(ByteBuffer buffer, int index, long senderMac, int senderIp, int targetIp) {
        write(buffer, index, OP_REQUEST, senderMac, senderIp, 0L, targetIp);
    }

    private static void write(ByteBuffer buffer, int index, int operation, long senderMac, int senderIp, long targetMac, int targetIp) {
        Bytes.put16(buffer, index + HARDWARE_TYPE_OFFSET, HARDWARE_TYPE_ETHERNET);
        Bytes.put16(buffer, index + PROTOCOL_TYPE_OFFSET, PROTOCOL_TYPE_IPV4);
        Bytes.put8(buffer, index + HARDWARE_LENGTH_OFFSET, MacAddress.LENGTH);
        Bytes.put8(buffer, index + PROTOCOL_LENGTH_OFFSET, Ipv4Address.LENGTH);
        Bytes.put16(buffer, index + OPERATION_OFFSET, operation);
        MacAddress.write(buffer, index + SENDER_MAC_OFFSET, senderMac);
        Ipv4Address.write(buffer, index + SENDER_IP_OFFSET, senderIp);
        MacAddress.write(buffer, index + TARGET_MAC_OFFSET, targetMac);
        Ipv4Address.write(buffer, index + TARGET_IP_OFFSET, targetIp);
    }
}
