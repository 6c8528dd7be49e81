package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Network address translation of one IPv4 packet in place: a new source or destination address, and
 * for TCP/UDP a new port (for ICMP echo, a new identifier), with every checksum the change touches
 * kept correct without summing the payload.
 *
 * <h2>Incremental checksum update (RFC 1624, eqn. 3)</h2>
 * <pre>
 *   HC' = ~(~HC + ~m + m')      for each 16-bit word m that changes to m'
 * </pre>
 * in one's-complement arithmetic. An address is two such words. The IPv4 header checksum covers the
 * addresses; the TCP and UDP checksums cover them through the pseudo-header and the ports directly;
 * the ICMP checksum covers the echo identifier but no pseudo-header.
 *
 * <h2>Special cases</h2>
 * <ul>
 *   <li>A UDP checksum of 0 means "none" and stays 0; a computed 0 is written as 0xFFFF.</li>
 *   <li>A <em>partial</em> checksum (the sender left the pseudo-header sum, not complemented, for the
 *       NIC to finish: the VNP flag C) moves the other way: {@code P' = P - m + m'}. Callers pass
 *       {@code partial} so it stays a correct partial sum.</li>
 *   <li>Non-first fragments carry no L4 header: only the IP header is rewritten; callers that need
 *       ports refuse fragments before calling.</li>
 * </ul>
 * The caller has validated the packet with {@link Ipv4Packet#wrap} and knows the L4 header is there
 * ({@link #hasPorts}). Nothing allocates.
 */
public final class AddressRewrite {
    private static final int ICMP_IDENTIFIER_OFFSET = IcmpPacket.IDENTIFIER_OFFSET;
    private static final int TCP_MIN_HEADER = 20;
    private static final int UDP_HEADER = 8;
    private static final int ICMP_ECHO_HEADER = 8;

    private AddressRewrite() {
    }

    /**
     * Whether the L4 header this class rewrites is present: TCP 20 bytes, UDP 8, ICMP echo 8, in an
     * unfragmented packet (or the first fragment).
     */
    public static boolean hasPorts(ByteBuffer buffer, int ipIndex, int ipHeaderLength, int ipTotalLength) {
        int flagsAndOffset = Bytes.u16(buffer, ipIndex + Ipv4Packet.FLAGS_AND_FRAGMENT_OFFSET_OFFSET);
        if ((flagsAndOffset & (Ipv4Packet.FRAGMENT_OFFSET_MASK | Ipv4Packet.FLAG_MORE_FRAGMENTS)) != 0) {
            return false;
        }
        int l4Length = ipTotalLength - ipHeaderLength;
        return switch (Bytes.u8(buffer, ipIndex + Ipv4Packet.PROTOCOL_OFFSET)) {
            case Ipv4Packet.PROTOCOL_TCP -> l4Length >= TCP_MIN_HEADER;
            case Ipv4Packet.PROTOCOL_UDP -> l4Length >= UDP_HEADER;
            case Ipv4Packet.PROTOCOL_ICMP -> l4Length >= ICMP_ECHO_HEADER && isEcho(Bytes.u8(buffer, ipIndex + ipHeaderLength));
            default -> false;
        };
    }

    /** ICMP echo request (8) or reply (0): the identifier plays the port's part. */
    public static boolean isEcho(int icmpType) {
        return icmpType == IcmpPacket.TYPE_ECHO_REQUEST || icmpType == IcmpPacket.TYPE_ECHO_REPLY;
    }

    /** The source port (TCP/UDP) or echo identifier (ICMP) of a packet {@link #hasPorts} accepted. */
    public static int sourcePort(ByteBuffer buffer, int l4Index, int protocol) {
        return Bytes.u16(buffer, l4Index + (protocol == Ipv4Packet.PROTOCOL_ICMP ? ICMP_IDENTIFIER_OFFSET : 0));
    }

    /** The destination port (TCP/UDP) or echo identifier (ICMP) of a packet {@link #hasPorts} accepted. */
    public static int destinationPort(ByteBuffer buffer, int l4Index, int protocol) {
        return Bytes.u16(buffer, l4Index + (protocol == Ipv4Packet.PROTOCOL_ICMP ? ICMP_IDENTIFIER_OFFSET : 2));
    }

    /** Rewrites the destination address only (IP header and, for TCP/UDP, the L4 checksum). */
    public static void destinationAddress(ByteBuffer buffer, int ipIndex, int address, boolean partial) {
        rewrite(buffer, ipIndex, Ipv4Packet.DESTINATION_OFFSET, address, -1, -1, partial);
    }

    /** Rewrites the source address only (IP header and, for TCP/UDP, the L4 checksum). */
    public static void sourceAddress(ByteBuffer buffer, int ipIndex, int address, boolean partial) {
        rewrite(buffer, ipIndex, Ipv4Packet.SOURCE_OFFSET, address, -1, -1, partial);
    }

    /** Rewrites the source address and the source port (or ICMP echo identifier). */
    public static void source(ByteBuffer buffer, int ipIndex, int address, int port, boolean partial) {
        rewrite(buffer, ipIndex, Ipv4Packet.SOURCE_OFFSET, address, 0, port, partial);
    }

    /** Rewrites the destination address and the destination port (or ICMP echo identifier). */
    public static void destination(ByteBuffer buffer, int ipIndex, int address, int port, boolean partial) {
        rewrite(buffer, ipIndex, Ipv4Packet.DESTINATION_OFFSET, address, 2, port, partial);
    }

    /**
     * @param portOffset offset of the port in the TCP/UDP header (0 source, 2 destination), or -1 to keep ports
     */
    private static void rewrite(ByteBuffer buffer, int ipIndex, int addressOffset, int address, int portOffset, int port,
                                boolean partial) {
        int headerLength = (Bytes.u8(buffer, ipIndex) & 0x0F) * 4;
        int protocol = Bytes.u8(buffer, ipIndex + Ipv4Packet.PROTOCOL_OFFSET);
        int l4 = ipIndex + headerLength;
        int oldAddress = Bytes.i32(buffer, ipIndex + addressOffset);
        Ipv4Address.write(buffer, ipIndex + addressOffset, address);
        int ipChecksumAt = ipIndex + Ipv4Packet.HEADER_CHECKSUM_OFFSET;
        Bytes.put16(buffer, ipChecksumAt, adjust32(Bytes.u16(buffer, ipChecksumAt), oldAddress, address));
        boolean l4Present = isFirstFragment(buffer, ipIndex);
        switch (protocol) {
            case Ipv4Packet.PROTOCOL_TCP, Ipv4Packet.PROTOCOL_UDP -> {
                if (!l4Present) {
                    return;
                }
                int checksumAt = l4 + InternetChecksum.partialChecksumOffset(protocol);
                int checksum = Bytes.u16(buffer, checksumAt);
                boolean udpWithout = protocol == Ipv4Packet.PROTOCOL_UDP && checksum == 0 && !partial;
                int oldPort = -1;
                if (portOffset >= 0) {
                    oldPort = Bytes.u16(buffer, l4 + portOffset);
                    Bytes.put16(buffer, l4 + portOffset, port);
                }
                if (udpWithout) {
                    return;
                }
                if (partial) {
                    // The field holds the uncomplemented pseudo-header sum; it covers addresses only.
                    Bytes.put16(buffer, checksumAt, ~adjust32(~checksum & 0xFFFF, oldAddress, address) & 0xFFFF);
                    return;
                }
                int updated = adjust32(checksum, oldAddress, address);
                if (oldPort >= 0) {
                    updated = adjust16(updated, oldPort, port);
                }
                if (protocol == Ipv4Packet.PROTOCOL_UDP && updated == 0) {
                    updated = 0xFFFF;
                }
                Bytes.put16(buffer, checksumAt, updated);
            }
            case Ipv4Packet.PROTOCOL_ICMP -> {
                if (portOffset < 0 || !l4Present) {
                    return;
                }
                int oldIdentifier = Bytes.u16(buffer, l4 + ICMP_IDENTIFIER_OFFSET);
                Bytes.put16(buffer, l4 + ICMP_IDENTIFIER_OFFSET, port);
                int checksumAt = l4 + IcmpPacket.CHECKSUM_OFFSET;
                Bytes.put16(buffer, checksumAt, adjust16(Bytes.u16(buffer, checksumAt), oldIdentifier, port));
            }
            default -> {
            }
        }
    }

    private static boolean isFirstFragment(ByteBuffer buffer, int ipIndex) {
        return (Bytes.u16(buffer, ipIndex + Ipv4Packet.FLAGS_AND_FRAGMENT_OFFSET_OFFSET) & Ipv4Packet.FRAGMENT_OFFSET_MASK) == 0;
    }

    /** RFC 1624 eqn. 3 for a 32-bit field: both of its 16-bit words. */
    static int adjust32(int checksum, int oldValue, int newValue) {
        return adjust16(adjust16(checksum, oldValue >>> 16, newValue >>> 16), oldValue & 0xFFFF, newValue & 0xFFFF);
    }

    /** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
    static int adjust16(int checksum, int oldWord, int newWord) {
        int sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return ~sum & 0xFFFF;
    }
}
