package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Software TSO: splits one TCP "super-frame" (an IPv4 or IPv6 packet of up to 64 KB that a TAP with
 * {@code IFF_VNET_HDR} hands over) into segments of at most {@code mss} payload bytes, laid out back to
 * back in an output buffer, each behind {@code prefix} free bytes for the caller's encapsulation header.
 * That is exactly the layout one {@code sendmsg} with {@code UDP_SEGMENT} needs: equal-size datagrams
 * of {@link #stride()} bytes, only the last one shorter.
 *
 * <pre>
 *  out: | prefix | IP hdr | TCP hdr | mss bytes | prefix | IP hdr | TCP hdr | mss bytes | ... | last, shorter |
 *       |<------------------- stride ---------->|
 * </pre>
 *
 * Per segment, as a NIC doing TSO would: IPv4 total length, identification (the first segment keeps the
 * super-frame's, each next one adds 1) and header checksum; IPv6 payload length; TCP sequence number
 * advanced by the payload before it; FIN and PSH only on the last segment, CWR only on the first; TCP
 * options copied to every segment. The TCP checksum field is set to the <em>partial</em> checksum (the
 * folded pseudo-header sum over the segment's own length, as Linux leaves it for
 * {@code CHECKSUM_PARTIAL}): payload checksums are never computed here. The receiving agent delivers
 * with {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}, so the VM's kernel treats them exactly like the sender's.
 *
 * <p>IPv6 extension headers are not handled (the next header must be TCP). No allocation.
 */
public final class TcpSegmenter {
    private static final int IPV6_HEADER_LENGTH = 40;
    private static final int IPV6_PAYLOAD_LENGTH_OFFSET = 4;
    private static final int IPV6_NEXT_HEADER_OFFSET = 6;
    private static final int IPV6_SOURCE_OFFSET = 8;
    private static final int IPV6_DESTINATION_OFFSET = 24;
    private static final int TCP_CHECKSUM_OFFSET = 16;

    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private final TcpSegment tcp = new TcpSegment();
    private int stride;
    private int headersLength;
    private int lastLength;

    /**
     * Segments the TCP packet at {@code [ipIndex, ipIndex + ipLength)} of {@code in}.
     *
     * @return the number of segments written, or -1 if the packet is not a well-formed IPv4/IPv6 TCP
     * packet, {@code mss} is not positive, or {@code out} has no room from {@code outIndex}
     */
    public int segment(ByteBuffer in, int ipIndex, int ipLength, int mss, ByteBuffer out, int outIndex, int prefix) {
        if (mss <= 0 || ipLength < Ipv4Packet.MIN_HEADER_LENGTH || !Bytes.fits(in, ipIndex, ipLength)) {
            return -1;
        }
        int version = Bytes.u8(in, ipIndex) >>> 4;
        int ipHeaderLength;
        int packetLength;
        if (version == Ipv4Packet.VERSION) {
            if (!ipv4.wrap(in, ipIndex, ipLength) || ipv4.protocol() != Ipv4Packet.PROTOCOL_TCP || ipv4.isFragment()) {
                return -1;
            }
            ipHeaderLength = ipv4.headerLength();
            packetLength = ipv4.totalLength();
        } else if (version == 6) {
            if (ipLength < IPV6_HEADER_LENGTH || Bytes.u8(in, ipIndex + IPV6_NEXT_HEADER_OFFSET) != Ipv4Packet.PROTOCOL_TCP) {
                return -1;
            }
            ipHeaderLength = IPV6_HEADER_LENGTH;
            packetLength = IPV6_HEADER_LENGTH + Bytes.u16(in, ipIndex + IPV6_PAYLOAD_LENGTH_OFFSET);
            if (packetLength > ipLength) {
                return -1;
            }
        } else {
            return -1;
        }
        if (!tcp.wrap(in, ipIndex + ipHeaderLength, packetLength - ipHeaderLength)) {
            return -1;
        }
        int tcpHeaderLength = tcp.headerLength();
        headersLength = ipHeaderLength + tcpHeaderLength;
        int payload = packetLength - headersLength;
        int segments = payload == 0 ? 1 : (payload + mss - 1) / mss;
        stride = prefix + headersLength + mss;
        int lastPayload = payload - (segments - 1) * mss;
        lastLength = prefix + headersLength + lastPayload;
        int total = (segments - 1) * stride + lastLength;
        if (outIndex < 0 || !Bytes.fits(out, outIndex, total)) {
            return -1;
        }
        long firstSequence = tcp.sequence();
        int flags = tcp.flags();
        int identification = version == Ipv4Packet.VERSION ? ipv4.identification() : 0;
        int payloadIndex = ipIndex + headersLength;
        for (int i = 0; i < segments; i++) {
            int segment = outIndex + i * stride + prefix;
            int chunk = i == segments - 1 ? lastPayload : mss;
            out.put(segment, in, ipIndex, headersLength);
            out.put(segment + headersLength, in, payloadIndex + i * mss, chunk);
            int tcpIndex = segment + ipHeaderLength;
            int tcpLength = tcpHeaderLength + chunk;
            int segmentFlags = flags;
            if (i < segments - 1) {
                segmentFlags &= ~(TcpSegment.FIN | TcpSegment.PSH);
            }
            if (i > 0) {
                segmentFlags &= ~TcpSegment.CWR;
            }
            Bytes.put8(out, tcpIndex + 13, segmentFlags);
            Bytes.put32(out, tcpIndex + 4, (int) (firstSequence + (long) i * mss));
            int pseudo;
            if (version == Ipv4Packet.VERSION) {
                Bytes.put16(out, segment + Ipv4Packet.TOTAL_LENGTH_OFFSET, ipHeaderLength + tcpLength);
                Bytes.put16(out, segment + Ipv4Packet.IDENTIFICATION_OFFSET, identification + i);
                ipv4.wrap(out, segment, ipHeaderLength + tcpLength);
                ipv4.updateHeaderChecksum();
                pseudo = InternetChecksum.pseudoHeaderSumIpv4(ipv4.source(), ipv4.destination(), Ipv4Packet.PROTOCOL_TCP, tcpLength);
            } else {
                Bytes.put16(out, segment + IPV6_PAYLOAD_LENGTH_OFFSET, tcpLength);
                pseudo = pseudoHeaderSumIpv6(out, segment, tcpLength);
            }
            Bytes.put16(out, tcpIndex + TCP_CHECKSUM_OFFSET, pseudo);
        }
        return segments;
    }

    /** The length of every segment but the last, prefix included: the {@code UDP_SEGMENT} size. */
    public int stride() {
        return stride;
    }

    /** The length of the last segment, prefix included. */
    public int lastLength() {
        return lastLength;
    }

    /** IP plus TCP header length of every segment. */
    public int headersLength() {
        return headersLength;
    }

    /** The folded, not complemented, IPv6 pseudo-header sum (RFC 8200 section 8.1). */
    public static int pseudoHeaderSumIpv6(ByteBuffer buffer, int ipIndex, int upperLayerLength) {
        long sum = InternetChecksum.sum(buffer, ipIndex + IPV6_SOURCE_OFFSET, 32)
                + (upperLayerLength >>> 16) + (upperLayerLength & 0xFFFF) + Ipv4Packet.PROTOCOL_TCP;
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }
}
