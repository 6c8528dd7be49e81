package dev.vnet.wire;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class TcpSegmenterTest {
    private static final int SOURCE = Ipv4Address.parse("10.0.0.11");
    private static final int DESTINATION = Ipv4Address.parse("10.0.0.12");
    private static final int PREFIX = VnpHeader.LENGTH;
    /** Timestamps option padded with two NOPs: 12 bytes, so the TCP header is 32 bytes. */
    private static final byte[] OPTIONS = {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78};

    /** An IPv4 or IPv6 TCP super-frame with a payload of {@code payload} patterned bytes. */
    static byte[] superFrame(int version, int payload, long sequence, int flags, int identification, Random random) {
        int ipHeader = version == 4 ? 20 : 40;
        int tcpHeader = 20 + OPTIONS.length;
        byte[] packet = new byte[ipHeader + tcpHeader + payload];
        ByteBuffer b = ByteBuffer.wrap(packet);
        if (version == 4) {
            Ipv4Packet.writeHeader(b, 0, packet.length, identification, 64, Ipv4Packet.PROTOCOL_TCP, SOURCE, DESTINATION);
        } else {
            b.put(0, (byte) 0x60);
            b.putShort(4, (short) (tcpHeader + payload));
            b.put(6, (byte) Ipv4Packet.PROTOCOL_TCP);
            b.put(7, (byte) 64);
            for (int i = 0; i < 32; i++) {
                b.put(8 + i, (byte) (0x20 + i));
            }
        }
        TcpSegment.writeHeader(b, ipHeader, 40000, 5201, sequence, 0x11223344L, flags, 512);
        b.put(ipHeader + 12, (byte) (((tcpHeader / 4) << 4)));
        b.put(ipHeader + 20, OPTIONS);
        byte[] data = new byte[payload];
        random.nextBytes(data);
        b.put(ipHeader + tcpHeader, data);
        return packet;
    }

    @ParameterizedTest(name = "IPv{0}, payload {1}, mss {2}")
    @CsvSource({
            "4, 3500, 1000", "4, 3000, 1000", "4, 1, 1000", "4, 0, 1000", "4, 65000, 1448", "4, 1449, 1448",
            "6, 3500, 1000", "6, 3000, 1000", "6, 1, 1000", "6, 64000, 1428", "6, 1429, 1428",
    })
    void segmentsLikeANicDoingTso(int version, int payload, int mss) {
        Random random = new Random(payload * 31L + mss);
        int flags = TcpSegment.ACK | TcpSegment.PSH | TcpSegment.FIN | TcpSegment.CWR;
        long sequence = 0xFFFF_F000L; // wraps within the super-frame
        byte[] packet = superFrame(version, payload, sequence, flags, 65534, random);
        ByteBuffer out = ByteBuffer.allocateDirect(4 + 70_000 + 64 * PREFIX * 2);
        TcpSegmenter segmenter = new TcpSegmenter();

        int segments = segmenter.segment(ByteBuffer.wrap(packet), 0, packet.length, mss, out, 4, PREFIX);

        int ipHeader = version == 4 ? 20 : 40;
        int headers = ipHeader + 32;
        int expected = payload == 0 ? 1 : (payload + mss - 1) / mss;
        assertThat(segments).isEqualTo(expected);
        assertThat(segmenter.headersLength()).isEqualTo(headers);
        assertThat(segmenter.stride()).isEqualTo(PREFIX + headers + mss);
        assertThat(segmenter.lastLength()).isEqualTo(PREFIX + headers + (payload - (segments - 1) * mss));
        ByteArrayOutputStream reassembled = new ByteArrayOutputStream();
        TcpSegment tcp = new TcpSegment();
        Ipv4Packet ipv4 = new Ipv4Packet();
        for (int i = 0; i < segments; i++) {
            int segment = 4 + i * segmenter.stride() + PREFIX;
            int chunk = i == segments - 1 ? payload - i * mss : mss;
            int tcpLength = 32 + chunk;
            if (version == 4) {
                assertThat(ipv4.wrap(out, segment, ipHeader + tcpLength)).isTrue();
                assertThat(ipv4.totalLength()).isEqualTo(ipHeader + tcpLength);
                assertThat(ipv4.identification()).as("IP ID of segment %d", i).isEqualTo((65534 + i) & 0xFFFF);
                assertThat(ipv4.headerChecksumValid()).isTrue();
            } else {
                assertThat(out.getShort(segment + 4) & 0xFFFF).isEqualTo(tcpLength);
                assertThat(out.get(segment + 6)).isEqualTo((byte) 6);
            }
            assertThat(tcp.wrap(out, segment + ipHeader, tcpLength)).isTrue();
            assertThat(tcp.sequence()).isEqualTo((sequence + (long) i * mss) & 0xFFFF_FFFFL);
            assertThat(tcp.acknowledgment()).isEqualTo(0x11223344L);
            boolean last = i == segments - 1;
            assertThat((tcp.flags() & TcpSegment.FIN) != 0).as("FIN on segment %d", i).isEqualTo(last);
            assertThat((tcp.flags() & TcpSegment.PSH) != 0).as("PSH on segment %d", i).isEqualTo(last);
            assertThat((tcp.flags() & TcpSegment.CWR) != 0).as("CWR on segment %d", i).isEqualTo(i == 0);
            assertThat(tcp.flags() & TcpSegment.ACK).isNotZero();
            byte[] options = new byte[OPTIONS.length];
            out.get(segment + ipHeader + 20, options);
            assertThat(options).isEqualTo(OPTIONS);
            assertThat(completedChecksumVerifies(out, segment, ipHeader, tcpLength, version)).as("checksum of segment %d", i).isTrue();
            byte[] data = new byte[chunk];
            out.get(segment + headers, data);
            reassembled.writeBytes(data);
        }
        byte[] original = new byte[payload];
        System.arraycopy(packet, headers, original, 0, payload);
        assertThat(reassembled.toByteArray()).isEqualTo(original);
    }

    /**
     * Completes the partial checksum as the kernel would for CHECKSUM_PARTIAL (fold the sum over the TCP
     * bytes, partial included, and complement), then verifies the result against the pseudo-header.
     */
    private static boolean completedChecksumVerifies(ByteBuffer out, int segment, int ipHeader, int tcpLength, int version) {
        int tcpIndex = segment + ipHeader;
        int completed = InternetChecksum.fold(InternetChecksum.sum(out, tcpIndex, tcpLength));
        out.putShort(tcpIndex + 16, (short) completed);
        int pseudo = version == 4
                ? InternetChecksum.pseudoHeaderSumIpv4(SOURCE, DESTINATION, Ipv4Packet.PROTOCOL_TCP, tcpLength)
                : TcpSegmenter.pseudoHeaderSumIpv6(out, segment, tcpLength);
        return InternetChecksum.verifies(out, tcpIndex, tcpLength, pseudo);
    }

    @Test
    void refusesWhatItCannotSegment() {
        TcpSegmenter segmenter = new TcpSegmenter();
        ByteBuffer out = ByteBuffer.allocate(100_000);
        byte[] good = superFrame(4, 3000, 1, TcpSegment.ACK, 1, new Random(1));
        byte[] udp = good.clone();
        udp[9] = (byte) Ipv4Packet.PROTOCOL_UDP;
        ByteBuffer.wrap(udp).putShort(10, (short) 0);
        assertThat(segmenter.segment(ByteBuffer.wrap(udp), 0, udp.length, 1000, out, 0, PREFIX)).as("not TCP").isEqualTo(-1);
        byte[] fragment = good.clone();
        ByteBuffer.wrap(fragment).putShort(6, (short) 0x2000);
        assertThat(segmenter.segment(ByteBuffer.wrap(fragment), 0, fragment.length, 1000, out, 0, PREFIX)).as("fragment").isEqualTo(-1);
        assertThat(segmenter.segment(ByteBuffer.wrap(good), 0, 30, 1000, out, 0, PREFIX)).as("truncated").isEqualTo(-1);
        assertThat(segmenter.segment(ByteBuffer.wrap(good), 0, good.length, 0, out, 0, PREFIX)).as("mss 0").isEqualTo(-1);
        assertThat(segmenter.segment(ByteBuffer.wrap(good), 0, good.length, 1000, ByteBuffer.allocate(500), 0, PREFIX))
                .as("no room").isEqualTo(-1);
        byte[] ipv6Extension = superFrame(6, 100, 1, TcpSegment.ACK, 0, new Random(2));
        ipv6Extension[6] = 0; // hop-by-hop options header
        assertThat(segmenter.segment(ByteBuffer.wrap(ipv6Extension), 0, ipv6Extension.length, 1000, out, 0, PREFIX))
                .as("IPv6 extension header").isEqualTo(-1);
        byte[] version5 = good.clone();
        version5[0] = 0x55;
        assertThat(segmenter.segment(ByteBuffer.wrap(version5), 0, version5.length, 1000, out, 0, PREFIX)).isEqualTo(-1);
    }

    @Test
    void segmentingAllocatesNothing() {
        byte[] packet = superFrame(4, 64_000, 7, TcpSegment.ACK, 9, new Random(3));
        ByteBuffer in = ByteBuffer.allocateDirect(packet.length);
        in.put(0, packet);
        ByteBuffer out = ByteBuffer.allocateDirect(80_000);
        TcpSegmenter segmenter = new TcpSegmenter();
        for (int i = 0; i < 2_000; i++) {
            segmenter.segment(in, 0, packet.length, 1428, out, 0, PREFIX);
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1_000; i++) {
            segmenter.segment(in, 0, packet.length, 1428, out, 0, PREFIX);
        }
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).isLessThan(1024);
    }
}
