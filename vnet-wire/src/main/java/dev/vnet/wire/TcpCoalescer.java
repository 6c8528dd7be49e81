package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * Software GRO towards a TAP opened with {@code IFF_VNET_HDR}: joins consecutive segments of one TCP
 * flow (as one {@code UDP_GRO} receive hands them over) back into a single super-frame, so that one
 * {@code write} delivers up to 64 KB to the VM instead of one syscall per 1.4 KB segment. Without it,
 * the receive side caps throughput (measured here: 1.25 Gbit/s without, 5–7 with).
 *
 * <p>The output frame, built in the coalescer's own buffer:
 * <pre>
 *  | virtio_net_hdr (10) | Ethernet (14) | IP header | TCP header | payload of segment 1 | of 2 | ... |
 * </pre>
 * with {@code VIRTIO_NET_HDR_F_NEEDS_CSUM} (the TCP checksum stays the partial pseudo-header sum, never
 * computed over payloads), {@code gso_type} TCPV4/TCPV6 and {@code gso_size} = the segments' payload
 * size, so the VM's kernel sees exactly what a NIC doing LRO would hand it.
 *
 * <p>A segment joins the frame being built only when Linux GRO would join it: same addresses, ports,
 * header lengths, TCP options, acknowledgment number and window; its sequence number continues the
 * frame; only ACK (and PSH on the last one) set; the same payload size as the first segment, or smaller
 * for the last; the result under 64 KB. A PSH, a short segment or a full frame closes it. For IPv4, TTL,
 * TOS and DF must match too. Everything else is the caller's to deliver alone ({@link #PASS}).
 *
 * <p>No allocation. One instance per receiving thread.
 */
public final class TcpCoalescer {
    /** {@link #offer}: the segment was added to the pending frame (or started one). */
    public static final int APPENDED = 0;
    /** {@link #offer}: the segment cannot join the pending frame: {@link #finish} it, then offer again. */
    public static final int FLUSH_FIRST = 1;
    /** {@link #offer}: the packet is not a coalescable TCP segment: deliver it alone. */
    public static final int PASS = 2;

    private static final int FRAME_START = VirtioNetHeader.LENGTH + EthernetFrame.HEADER_LENGTH;
    private static final int MAX_IP_LENGTH = 65535;
    private static final int IPV6_HEADER_LENGTH = 40;
    private static final int TCP_CHECKSUM_OFFSET = 16;
    private static final int ALLOWED_FLAGS = TcpSegment.ACK | TcpSegment.PSH;

    private final ByteBuffer out;
    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private final TcpSegment tcp = new TcpSegment();

    private boolean pending;
    private boolean closed;
    private int version;
    private int ipHeaderLength;
    private int tcpHeaderLength;
    private int segmentPayload;
    private int length;
    private int segments;
    private long nextSequence;

    /** @param out at least 64 KB + 24 bytes; the frame is built from index 0 */
    public TcpCoalescer(ByteBuffer out) {
        if (out.capacity() < FRAME_START + MAX_IP_LENGTH) {
            throw new IllegalArgumentException("the coalescing buffer needs " + (FRAME_START + MAX_IP_LENGTH) + " bytes");
        }
        this.out = out;
    }

    /** Offers one IP packet at {@code [ipIndex, ipIndex + ipLength)} of {@code in}. */
    public int offer(ByteBuffer in, int ipIndex, int ipLength) {
        if (ipLength < Ipv4Packet.MIN_HEADER_LENGTH || !Bytes.fits(in, ipIndex, ipLength)) {
            return PASS;
        }
        int packetVersion = Bytes.u8(in, ipIndex) >>> 4;
        int headerLength;
        int packetLength;
        if (packetVersion == Ipv4Packet.VERSION) {
            if (!ipv4.wrap(in, ipIndex, ipLength) || ipv4.protocol() != Ipv4Packet.PROTOCOL_TCP || ipv4.isFragment()) {
                return PASS;
            }
            headerLength = ipv4.headerLength();
            packetLength = ipv4.totalLength();
        } else if (packetVersion == 6 && ipLength >= IPV6_HEADER_LENGTH
                && Bytes.u8(in, ipIndex + 6) == Ipv4Packet.PROTOCOL_TCP) {
            headerLength = IPV6_HEADER_LENGTH;
            packetLength = IPV6_HEADER_LENGTH + Bytes.u16(in, ipIndex + 4);
            if (packetLength > ipLength) {
                return PASS;
            }
        } else {
            return PASS;
        }
        if (!tcp.wrap(in, ipIndex + headerLength, packetLength - headerLength)) {
            return PASS;
        }
        int payload = tcp.payloadLength();
        if (payload == 0 || (tcp.flags() & ~ALLOWED_FLAGS) != 0 || (tcp.flags() & TcpSegment.ACK) == 0) {
            return PASS;
        }
        if (!pending) {
            start(in, ipIndex, packetVersion, headerLength, packetLength, payload);
            return APPENDED;
        }
        if (closed || !continues(in, ipIndex, packetVersion, headerLength, payload)
                || length + payload > MAX_IP_LENGTH) {
            return FLUSH_FIRST;
        }
        out.put(FRAME_START + length, in, ipIndex + headerLength + tcpHeaderLength, payload);
        length += payload;
        segments++;
        nextSequence = (nextSequence + payload) & 0xFFFF_FFFFL;
        int tcpIndex = FRAME_START + ipHeaderLength;
        if ((tcp.flags() & TcpSegment.PSH) != 0) {
            Bytes.put8(out, tcpIndex + 13, Bytes.u8(out, tcpIndex + 13) | TcpSegment.PSH);
            closed = true;
        }
        if (payload < segmentPayload) {
            closed = true;
        }
        return APPENDED;
    }

    private void start(ByteBuffer in, int ipIndex, int packetVersion, int headerLength, int packetLength, int payload) {
        out.put(FRAME_START, in, ipIndex, packetLength);
        pending = true;
        version = packetVersion;
        ipHeaderLength = headerLength;
        tcpHeaderLength = tcp.headerLength();
        segmentPayload = payload;
        length = packetLength;
        segments = 1;
        nextSequence = (tcp.sequence() + payload) & 0xFFFF_FFFFL;
        closed = (tcp.flags() & TcpSegment.PSH) != 0;
    }

    /** Whether the wrapped segment continues the pending frame (see the class comment). */
    private boolean continues(ByteBuffer in, int ipIndex, int packetVersion, int headerLength, int payload) {
        if (packetVersion != version || headerLength != ipHeaderLength || tcp.headerLength() != tcpHeaderLength
                || tcp.sequence() != nextSequence || payload > segmentPayload) {
            return false;
        }
        int tcpIndex = ipIndex + headerLength;
        int pendingTcp = FRAME_START + ipHeaderLength;
        // Ports; then acknowledgment number; then window; then every option byte.
        if (Bytes.i32(in, tcpIndex) != Bytes.i32(out, pendingTcp)
                || Bytes.i32(in, tcpIndex + 8) != Bytes.i32(out, pendingTcp + 8)
                || Bytes.u16(in, tcpIndex + 14) != Bytes.u16(out, pendingTcp + 14)
                || !sameBytes(in, tcpIndex + TcpSegment.MIN_HEADER_LENGTH, pendingTcp + TcpSegment.MIN_HEADER_LENGTH,
                tcpHeaderLength - TcpSegment.MIN_HEADER_LENGTH)) {
            return false;
        }
        if (version == Ipv4Packet.VERSION) {
            // TOS, DF, TTL, protocol, addresses: everything but lengths, ID, fragment offset and checksum.
            return Bytes.u8(in, ipIndex + 1) == Bytes.u8(out, FRAME_START + 1)
                    && (Bytes.u8(in, ipIndex + 6) & 0x40) == (Bytes.u8(out, FRAME_START + 6) & 0x40)
                    && Bytes.u16(in, ipIndex + 8) == Bytes.u16(out, FRAME_START + 8)
                    && sameBytes(in, ipIndex + 12, FRAME_START + 12, 8);
        }
        // IPv6: version, traffic class, flow label, next header, hop limit, addresses.
        return Bytes.i32(in, ipIndex) == Bytes.i32(out, FRAME_START)
                && Bytes.u16(in, ipIndex + 6) == Bytes.u16(out, FRAME_START + 6)
                && sameBytes(in, ipIndex + 8, FRAME_START + 8, 32);
    }

    private boolean sameBytes(ByteBuffer in, int inIndex, int outIndex, int count) {
        for (int i = 0; i < count; i++) {
            if (in.get(inIndex + i) != out.get(outIndex + i)) {
                return false;
            }
        }
        return true;
    }

    public boolean hasPending() {
        return pending;
    }

    /** Segments in the pending frame. */
    public int segments() {
        return segments;
    }

    /**
     * Completes the pending frame (lengths, IPv4 header checksum, partial TCP checksum, Ethernet and
     * virtio headers) and returns its length from index 0 of the buffer; the coalescer is then empty.
     */
    public int finish(long destinationMac, long sourceMac) {
        int tcpLength = length - ipHeaderLength;
        int tcpIndex = FRAME_START + ipHeaderLength;
        int pseudo;
        int etherType;
        int gsoType;
        if (version == Ipv4Packet.VERSION) {
            Bytes.put16(out, FRAME_START + Ipv4Packet.TOTAL_LENGTH_OFFSET, length);
            ipv4.wrap(out, FRAME_START, length);
            ipv4.updateHeaderChecksum();
            pseudo = InternetChecksum.pseudoHeaderSumIpv4(ipv4.source(), ipv4.destination(), Ipv4Packet.PROTOCOL_TCP, tcpLength);
            etherType = EthernetFrame.ETHER_TYPE_IPV4;
            gsoType = VirtioNetHeader.GSO_TCPV4;
        } else {
            Bytes.put16(out, FRAME_START + 4, tcpLength);
            pseudo = TcpSegmenter.pseudoHeaderSumIpv6(out, FRAME_START, tcpLength);
            etherType = EthernetFrame.ETHER_TYPE_IPV6;
            gsoType = VirtioNetHeader.GSO_TCPV6;
        }
        Bytes.put16(out, tcpIndex + TCP_CHECKSUM_OFFSET, pseudo);
        int checksumStart = EthernetFrame.HEADER_LENGTH + ipHeaderLength;
        VirtioNetHeader.write(out, 0, VirtioNetHeader.FLAG_NEEDS_CSUM, segments > 1 ? gsoType : VirtioNetHeader.GSO_NONE,
                segments > 1 ? checksumStart + tcpHeaderLength : 0, segments > 1 ? segmentPayload : 0,
                checksumStart, TCP_CHECKSUM_OFFSET);
        EthernetFrame.writeHeader(out, VirtioNetHeader.LENGTH, destinationMac, sourceMac, etherType);
        pending = false;
        closed = false;
        return FRAME_START + length;
    }
}
