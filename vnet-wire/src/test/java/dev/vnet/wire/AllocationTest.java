package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The per-packet path (wrap, getters, setters, checksums) must not allocate. */
class AllocationTest {
    private static final int PACKETS = 100_000;

    private final VnpHeader vnp = new VnpHeader();
    private final EthernetFrame ethernet = new EthernetFrame();
    private final Ipv4Packet ip = new Ipv4Packet();
    private final TcpSegment tcp = new TcpSegment();
    private final UdpDatagram udp = new UdpDatagram();
    private final IcmpPacket icmp = new IcmpPacket();
    private final ArpPacket arp = new ArpPacket();

    @Test
    void decodingAndRewritingAPacketAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ByteBuffer tcpDatagram = datagram(RealPackets.TCP_SYN);
        ByteBuffer udpDatagram = datagram(RealPackets.UDP_HELLO);
        ByteBuffer icmpFrame = ByteBuffer.allocateDirect(RealPackets.ICMP_ECHO_REQUEST.length).put(RealPackets.ICMP_ECHO_REQUEST);
        ByteBuffer arpFrame = ByteBuffer.wrap(RealPackets.ARP_REQUEST.clone());

        long sink = 0;
        for (int i = 0; i < PACKETS; i++) {
            sink += process(tcpDatagram, udpDatagram, icmpFrame, arpFrame);
        }
        threads.getCurrentThreadAllocatedBytes();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < PACKETS; i++) {
            sink += process(tcpDatagram, udpDatagram, icmpFrame, arpFrame);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(sink).isNotZero();
        // Any per-packet allocation would be at least 16 bytes * PACKETS; allow a little for the
        // measurement itself.
        assertThat(allocated).isLessThan(PACKETS);
    }

    private static ByteBuffer datagram(byte[] frame) {
        int ipLength = frame.length - EthernetFrame.HEADER_LENGTH;
        ByteBuffer buffer = ByteBuffer.allocateDirect(VnpHeader.LENGTH + ipLength);
        VnpHeader.write(buffer, 0, 9, 1_800_000_000L, 0);
        buffer.put(VnpHeader.LENGTH, frame, EthernetFrame.HEADER_LENGTH, ipLength);
        return buffer;
    }

    private long process(ByteBuffer tcpDatagram, ByteBuffer udpDatagram, ByteBuffer icmpFrame, ByteBuffer arpFrame) {
        long sink = 0;
        if (vnp.wrap(tcpDatagram, 0, tcpDatagram.limit())
            && ip.wrap(tcpDatagram, vnp.innerOffset(), vnp.innerLength())
            && tcp.wrap(tcpDatagram, ip.payloadOffset(), ip.payloadLength())) {
            ip.ttl(64);
            ip.updateHeaderChecksum();
            tcp.updateChecksum(ip.source(), ip.destination());
            sink += vnp.token() + vnp.expiry() + ip.source() + tcp.sequence() + tcp.maximumSegmentSize()
                + (tcp.checksumValid(ip.source(), ip.destination()) ? 1 : 0);
        }
        if (vnp.wrap(udpDatagram, 0, udpDatagram.limit())
            && ip.wrap(udpDatagram, vnp.innerOffset(), vnp.innerLength())
            && udp.wrap(udpDatagram, ip.payloadOffset(), ip.payloadLength())) {
            sink += udp.destinationPort() + (udp.checksumValid(ip.source(), ip.destination()) ? 1 : 0);
        }
        if (ethernet.wrap(icmpFrame, 0, icmpFrame.limit()) && ip.wrap(icmpFrame, 14, ethernet.payloadLength())
            && icmp.wrap(icmpFrame, ip.payloadOffset(), ip.payloadLength())) {
            icmp.updateChecksum();
            sink += icmp.sequence() + (icmp.checksumValid() ? 1 : 0) + (ip.headerChecksumValid() ? 1 : 0);
        }
        if (ethernet.wrap(arpFrame, 0, arpFrame.limit()) && arp.wrap(arpFrame, 14, ethernet.payloadLength())) {
            ArpPacket.writeReply(arpFrame, 14, 1L, 2, 3L, 4);
            sink += arp.senderMac() + (MacAddress.isMulticast(ethernet.destination()) ? 1 : 0);
            ArpPacket.writeRequest(arpFrame, 14, 0x0256_4e00_0001L, 0x0a00_0001, 0x0a00_0002);
        }
        return sink;
    }
}
