package dev.vnet.wire;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class TcpCoalescerTest {
    private static final long VM_MAC = 0x02_56_4E_00_00_01L;
    private static final long GATEWAY_MAC = 0x02_56_4E_FF_FF_FEL;
    private static final int FRAME_START = VirtioNetHeader.LENGTH + EthernetFrame.HEADER_LENGTH;

    private final TcpCoalescer coalescer = new TcpCoalescer(ByteBuffer.allocateDirect(70_000));
    private final TcpSegmenter segmenter = new TcpSegmenter();

    /** Segments of a super-frame, as separate packets (what arrives in one UDP_GRO receive). */
    private List<byte[]> segments(byte[] superFrame, int mss) {
        ByteBuffer out = ByteBuffer.allocate(80_000);
        int count = segmenter.segment(ByteBuffer.wrap(superFrame), 0, superFrame.length, mss, out, 0, 0);
        List<byte[]> packets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] packet = new byte[i == count - 1 ? segmenter.lastLength() : segmenter.stride()];
            out.get(i * segmenter.stride(), packet);
            packets.add(packet);
        }
        return packets;
    }

    private int offer(byte[] packet) {
        return coalescer.offer(ByteBuffer.wrap(packet), 0, packet.length);
    }

    @ParameterizedTest(name = "IPv{0}, payload {1}, mss {2}")
    @CsvSource({"4, 3500, 1000", "4, 4000, 1000", "4, 64000, 1428", "6, 3500, 1000", "6, 60000, 1408"})
    void segmentsJoinBackIntoTheSuperFrame(int version, int payload, int mss) {
        byte[] original = TcpSegmenterTest.superFrame(version, payload, 0xFFFF_FF00L, TcpSegment.ACK | TcpSegment.PSH, 100, new Random(payload));
        List<byte[]> packets = segments(original, mss);
        for (byte[] packet : packets) {
            assertThat(offer(packet)).isEqualTo(TcpCoalescer.APPENDED);
        }
        assertThat(coalescer.segments()).isEqualTo(packets.size());
        ByteBuffer frame = frameOf(coalescer.finish(VM_MAC, GATEWAY_MAC));

        VirtioNetHeader virtio = new VirtioNetHeader();
        assertThat(virtio.wrap(frame, 0, frame.limit())).isTrue();
        int ipHeader = version == 4 ? 20 : 40;
        assertThat(virtio.needsChecksum()).isTrue();
        assertThat(virtio.gsoType()).isEqualTo(version == 4 ? VirtioNetHeader.GSO_TCPV4 : VirtioNetHeader.GSO_TCPV6);
        assertThat(virtio.gsoSize()).isEqualTo(mss);
        assertThat(virtio.headerLength()).isEqualTo(14 + ipHeader + 32);
        assertThat(virtio.checksumStart()).isEqualTo(14 + ipHeader);
        assertThat(virtio.checksumOffset()).isEqualTo(16);
        EthernetFrame ethernet = new EthernetFrame();
        ethernet.wrap(frame, VirtioNetHeader.LENGTH, frame.limit() - VirtioNetHeader.LENGTH);
        assertThat(ethernet.destination()).isEqualTo(VM_MAC);
        assertThat(ethernet.source()).isEqualTo(GATEWAY_MAC);
        assertThat(ethernet.etherType()).isEqualTo(version == 4 ? EthernetFrame.ETHER_TYPE_IPV4 : EthernetFrame.ETHER_TYPE_IPV6);

        byte[] rebuilt = new byte[frame.limit() - FRAME_START];
        frame.get(FRAME_START, rebuilt);
        assertThat(rebuilt).hasSameSizeAs(original);
        // Same packet but for the checksums (IPv4 header: recomputed; TCP: partial) and the IPv4 ID.
        assertThat(withoutChecksums(rebuilt, version)).isEqualTo(withoutChecksums(original, version));
        if (version == 4) {
            Ipv4Packet ip = new Ipv4Packet();
            ip.wrap(frame, FRAME_START, rebuilt.length);
            assertThat(ip.headerChecksumValid()).isTrue();
        }
        int tcpIndex = FRAME_START + ipHeader;
        int tcpLength = rebuilt.length - ipHeader;
        int completed = InternetChecksum.fold(InternetChecksum.sum(frame, tcpIndex, tcpLength));
        frame.putShort(tcpIndex + 16, (short) completed);
        int pseudo = version == 4
                ? InternetChecksum.pseudoHeaderSumIpv4(ByteBuffer.wrap(original).getInt(12), ByteBuffer.wrap(original).getInt(16), 6, tcpLength)
                : TcpSegmenter.pseudoHeaderSumIpv6(frame, FRAME_START, tcpLength);
        assertThat(InternetChecksum.verifies(frame, tcpIndex, tcpLength, pseudo)).as("partial checksum completes").isTrue();
        assertThat(coalescer.hasPending()).isFalse();
    }

    private static byte[] withoutChecksums(byte[] packet, int version) {
        byte[] copy = packet.clone();
        int ipHeader = version == 4 ? 20 : 40;
        if (version == 4) {
            copy[10] = copy[11] = 0;
        }
        copy[ipHeader + 16] = copy[ipHeader + 17] = 0;
        return copy;
    }

    private ByteBuffer frameOf(int length) {
        ByteBuffer out = ByteBuffer.allocate(length);
        ByteBuffer source = bufferOf();
        out.put(0, source, 0, length);
        return out;
    }

    private ByteBuffer bufferOf() {
        try {
            var field = TcpCoalescer.class.getDeclaredField("out");
            field.setAccessible(true);
            return (ByteBuffer) field.get(coalescer);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aSingleSegmentIsDeliveredWithoutGsoButStillWithAPartialChecksum() {
        byte[] packet = segments(TcpSegmenterTest.superFrame(4, 500, 1, TcpSegment.ACK, 1, new Random(1)), 1000).getFirst();
        assertThat(offer(packet)).isEqualTo(TcpCoalescer.APPENDED);
        ByteBuffer frame = frameOf(coalescer.finish(VM_MAC, GATEWAY_MAC));
        VirtioNetHeader virtio = new VirtioNetHeader();
        virtio.wrap(frame, 0, frame.limit());
        assertThat(virtio.gsoType()).isEqualTo(VirtioNetHeader.GSO_NONE);
        assertThat(virtio.needsChecksum()).isTrue();
        assertThat(frame.limit()).isEqualTo(FRAME_START + packet.length);
    }

    @Test
    void onlyAContinuationOfTheSameFlowJoins() {
        List<byte[]> packets = segments(TcpSegmenterTest.superFrame(4, 5000, 1000, TcpSegment.ACK, 1, new Random(2)), 1000);
        assertThat(offer(packets.get(0))).isEqualTo(TcpCoalescer.APPENDED);
        assertThat(offer(packets.get(2))).as("a gap in the sequence").isEqualTo(TcpCoalescer.FLUSH_FIRST);

        byte[] otherPort = packets.get(1).clone();
        otherPort[20] ^= 1;
        assertThat(offer(otherPort)).as("another flow").isEqualTo(TcpCoalescer.FLUSH_FIRST);
        byte[] otherAck = packets.get(1).clone();
        otherAck[20 + 11] ^= 1;
        assertThat(offer(otherAck)).as("another acknowledgment").isEqualTo(TcpCoalescer.FLUSH_FIRST);
        byte[] otherWindow = packets.get(1).clone();
        otherWindow[20 + 15] ^= 1;
        assertThat(offer(otherWindow)).as("another window").isEqualTo(TcpCoalescer.FLUSH_FIRST);
        byte[] otherTimestamp = packets.get(1).clone();
        otherTimestamp[20 + 20 + 7] ^= 1;
        assertThat(offer(otherTimestamp)).as("other options").isEqualTo(TcpCoalescer.FLUSH_FIRST);
        byte[] otherTtl = packets.get(1).clone();
        otherTtl[8] = 3;
        assertThat(offer(otherTtl)).as("another TTL").isEqualTo(TcpCoalescer.FLUSH_FIRST);
        byte[] otherSource = packets.get(1).clone();
        otherSource[15] ^= 1;
        assertThat(offer(otherSource)).as("another source").isEqualTo(TcpCoalescer.FLUSH_FIRST);

        assertThat(offer(packets.get(1))).isEqualTo(TcpCoalescer.APPENDED);
        assertThat(coalescer.segments()).isEqualTo(2);
    }

    @Test
    void pshOrAShortSegmentEndsTheFrame() {
        List<byte[]> psh = segments(TcpSegmenterTest.superFrame(4, 2000, 1, TcpSegment.ACK | TcpSegment.PSH, 1, new Random(3)), 1000);
        List<byte[]> next = segments(TcpSegmenterTest.superFrame(4, 2000, 2001, TcpSegment.ACK, 3, new Random(4)), 1000);
        psh.forEach(p -> assertThat(offer(p)).isEqualTo(TcpCoalescer.APPENDED));
        assertThat(offer(next.getFirst())).as("after PSH").isEqualTo(TcpCoalescer.FLUSH_FIRST);
        coalescer.finish(VM_MAC, GATEWAY_MAC);

        List<byte[]> ragged = segments(TcpSegmenterTest.superFrame(4, 1500, 1, TcpSegment.ACK, 1, new Random(5)), 1000);
        ragged.forEach(p -> assertThat(offer(p)).isEqualTo(TcpCoalescer.APPENDED));
        List<byte[]> after = segments(TcpSegmenterTest.superFrame(4, 1000, 1501, TcpSegment.ACK, 3, new Random(6)), 1000);
        assertThat(offer(after.getFirst())).as("after a short segment").isEqualTo(TcpCoalescer.FLUSH_FIRST);
    }

    @Test
    void neverGrowsPast64Kilobytes() {
        List<byte[]> first = segments(TcpSegmenterTest.superFrame(4, 64_000, 1, TcpSegment.ACK, 1, new Random(7)), 1000);
        List<byte[]> more = segments(TcpSegmenterTest.superFrame(4, 3000, 64_001, TcpSegment.ACK, 65, new Random(8)), 1000);
        first.forEach(p -> assertThat(offer(p)).isEqualTo(TcpCoalescer.APPENDED));
        assertThat(offer(more.get(0))).isEqualTo(TcpCoalescer.APPENDED); // 64 000 + 1 000 + headers < 65 535
        assertThat(offer(more.get(1))).isEqualTo(TcpCoalescer.FLUSH_FIRST);
    }

    @Test
    void controlSegmentsPureAcksAndOtherProtocolsPass() {
        for (int flags : new int[]{TcpSegment.SYN | TcpSegment.ACK, TcpSegment.FIN | TcpSegment.ACK, TcpSegment.RST, TcpSegment.URG | TcpSegment.ACK, TcpSegment.PSH}) {
            byte[] packet = segments(TcpSegmenterTest.superFrame(4, 100, 1, flags, 1, new Random(9)), 1000).getFirst();
            assertThat(offer(packet)).as("flags %x", flags).isEqualTo(TcpCoalescer.PASS);
        }
        byte[] pureAck = TcpSegmenterTest.superFrame(4, 0, 1, TcpSegment.ACK, 1, new Random(10));
        assertThat(offer(pureAck)).isEqualTo(TcpCoalescer.PASS);
        byte[] udp = new byte[60];
        Ipv4Packet.writeHeader(ByteBuffer.wrap(udp), 0, 60, 1, 64, Ipv4Packet.PROTOCOL_UDP, 1, 2);
        assertThat(offer(udp)).isEqualTo(TcpCoalescer.PASS);
        assertThat(offer(Arrays.copyOf(udp, 10))).isEqualTo(TcpCoalescer.PASS);
        assertThat(coalescer.hasPending()).isFalse();
    }

    @Test
    void coalescingAllocatesNothing() {
        List<byte[]> packets = segments(TcpSegmenterTest.superFrame(4, 60_000, 1, TcpSegment.ACK, 1, new Random(11)), 1428);
        ByteBuffer in = ByteBuffer.allocateDirect(1600);
        byte[][] array = packets.toArray(byte[][]::new);
        Runnable round = () -> {
            for (byte[] packet : array) { // an array: a list's iterator would be the only allocation here
                in.put(0, packet);
                coalescer.offer(in, 0, packet.length);
            }
            coalescer.finish(VM_MAC, GATEWAY_MAC);
        };
        for (int i = 0; i < 2_000; i++) {
            round.run();
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1_000; i++) {
            round.run();
        }
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).isLessThan(1024);
    }
}
