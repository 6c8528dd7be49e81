package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class Ipv4PacketTest {
    private static final int LOCALHOST = 0x7f00_0001;

    private final Ipv4Packet ip = new Ipv4Packet();

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void readsARealTcpSynPacket(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.TCP_SYN, offset);
        assertThat(ip.wrap(buffer, offset + 14, 60)).isTrue();

        assertThat(ip.version()).isEqualTo(4);
        assertThat(ip.headerLength()).isEqualTo(20);
        assertThat(ip.typeOfService()).isZero();
        assertThat(ip.totalLength()).isEqualTo(60);
        assertThat(ip.identification()).isEqualTo(0x7611);
        assertThat(ip.dontFragment()).isTrue();
        assertThat(ip.moreFragments()).isFalse();
        assertThat(ip.fragmentOffset()).isZero();
        assertThat(ip.isFragment()).isFalse();
        assertThat(ip.ttl()).isEqualTo(64);
        assertThat(ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_TCP);
        assertThat(ip.headerChecksum()).isEqualTo(0xc6a8);
        assertThat(ip.computeHeaderChecksum()).isEqualTo(0xc6a8);
        assertThat(ip.headerChecksumValid()).isTrue();
        assertThat(ip.source()).isEqualTo(LOCALHOST);
        assertThat(ip.destination()).isEqualTo(LOCALHOST);
        assertThat(ip.payloadOffset()).isEqualTo(offset + 34);
        assertThat(ip.payloadLength()).isEqualTo(40);
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void readsTheKernelsEchoReplyWithoutDontFragment(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.ICMP_ECHO_REPLY, offset);
        assertThat(ip.wrap(buffer, offset + 14, RealPackets.ICMP_ECHO_REPLY.length - 14)).isTrue();
        assertThat(ip.dontFragment()).isFalse();
        assertThat(ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_ICMP);
        assertThat(ip.headerChecksumValid()).isTrue();
        assertThat(ip.computeHeaderChecksum()).isEqualTo(ip.headerChecksum()).isEqualTo(0x3cf0);
    }

    @Test
    void validatesChecksumsOfEveryRealPacket() {
        for (byte[] frame : new byte[][] {RealPackets.TCP_SYN, RealPackets.UDP_HELLO, RealPackets.ICMP_ECHO_REQUEST,
            RealPackets.ICMP_ECHO_REPLY, RealPackets.ICMP_PORT_UNREACHABLE}) {
            ByteBuffer buffer = ByteBuffer.wrap(frame);
            assertThat(ip.wrap(buffer, 14, frame.length - 14)).isTrue();
            assertThat(ip.headerChecksumValid()).isTrue();
            assertThat(ip.computeHeaderChecksum()).isEqualTo(ip.headerChecksum());
        }
    }

    @Test
    void acceptsEthernetPaddingAfterTotalLength() {
        byte[] padded = Arrays.copyOf(RealPackets.UDP_HELLO, 60);
        ByteBuffer buffer = ByteBuffer.wrap(padded);
        assertThat(ip.wrap(buffer, 14, 46)).isTrue();
        assertThat(ip.totalLength()).isEqualTo(38);
        assertThat(ip.length()).isEqualTo(46);
        assertThat(ip.payloadLength()).isEqualTo(18);
    }

    @Test
    void detectsACorruptedHeader() {
        ByteBuffer buffer = ByteBuffer.wrap(RealPackets.TCP_SYN.clone());
        assertThat(ip.wrap(buffer, 14, 60)).isTrue();
        buffer.put(14 + 8, (byte) 63);
        assertThat(ip.headerChecksumValid()).isFalse();
        ip.updateHeaderChecksum();
        assertThat(ip.headerChecksumValid()).isTrue();
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void settersRoundTripAndTtlRewriteKeepsTheChecksumValid(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.ICMP_ECHO_REQUEST, offset);
        assertThat(ip.wrap(buffer, offset + 14, 68)).isTrue();

        ip.ttl(ip.ttl() - 1);
        ip.source(Ipv4Address.parse("10.0.0.2"));
        ip.destination(Ipv4Address.parse("10.0.0.1"));
        ip.identification(0xBEEF);
        ip.protocol(Ipv4Packet.PROTOCOL_UDP);
        ip.totalLength(60);
        assertThat(ip.headerChecksumValid()).isFalse();
        ip.updateHeaderChecksum();

        assertThat(ip.ttl()).isEqualTo(63);
        assertThat(ip.source()).isEqualTo(0x0a00_0002);
        assertThat(ip.destination()).isEqualTo(0x0a00_0001);
        assertThat(ip.identification()).isEqualTo(0xBEEF);
        assertThat(ip.protocol()).isEqualTo(17);
        assertThat(ip.totalLength()).isEqualTo(60);
        assertThat(ip.payloadLength()).isEqualTo(40);
        assertThat(ip.headerChecksumValid()).isTrue();
        assertThat(Buffers.bytes(buffer, offset + 14, 20))
            .isEqualTo(Buffers.hex("4500 003c beef 4000 3f11 %04x 0a000002 0a000001".formatted(ip.headerChecksum())));

        ip.headerChecksum(0x1234);
        assertThat(ip.headerChecksum()).isEqualTo(0x1234);
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void writeHeaderProducesAValidPacketWithDontFragment(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(new byte[28], offset);
        Ipv4Packet.writeHeader(buffer, offset, 28, 0x7611, 64, Ipv4Packet.PROTOCOL_UDP, LOCALHOST, 0x0a00_0001);

        assertThat(ip.wrap(buffer, offset, 28)).isTrue();
        assertThat(ip.headerChecksumValid()).isTrue();
        assertThat(ip.dontFragment()).isTrue();
        assertThat(ip.isFragment()).isFalse();
        assertThat(ip.typeOfService()).isZero();
        assertThat(ip.payloadLength()).isEqualTo(8);
        assertThat(Buffers.bytes(buffer, offset, 20))
            .isEqualTo(Buffers.hex("4500 001c 7611 4000 4011 %04x 7f000001 0a000001".formatted(ip.headerChecksum())));
    }

    @Test
    void matchesTheKernelsChecksum() {
        // Same fields as the captured SYN's header; the kernel computed c6a8.
        ByteBuffer buffer = ByteBuffer.allocate(20);
        Ipv4Packet.writeHeader(buffer, 0, 60, 0x7611, 64, Ipv4Packet.PROTOCOL_TCP, LOCALHOST, LOCALHOST);
        assertThat(buffer.array()).isEqualTo(Arrays.copyOfRange(RealPackets.TCP_SYN, 14, 34));
    }

    @Test
    void decodesFragmentFields() {
        ByteBuffer buffer = ByteBuffer.allocate(40);
        Ipv4Packet.writeHeader(buffer, 0, 40, 1, 64, Ipv4Packet.PROTOCOL_UDP, 1, 2);
        assertThat(ip.wrap(buffer, 0, 40)).isTrue();

        buffer.putShort(Ipv4Packet.FLAGS_AND_FRAGMENT_OFFSET_OFFSET, (short) (0x2000 | 185));
        assertThat(ip.moreFragments()).isTrue();
        assertThat(ip.dontFragment()).isFalse();
        assertThat(ip.fragmentOffset()).isEqualTo(1480);
        assertThat(ip.isFragment()).isTrue();

        buffer.putShort(Ipv4Packet.FLAGS_AND_FRAGMENT_OFFSET_OFFSET, (short) 0x2000);
        assertThat(ip.isFragment()).as("first fragment").isTrue();
        assertThat(ip.fragmentOffset()).isZero();

        buffer.putShort(Ipv4Packet.FLAGS_AND_FRAGMENT_OFFSET_OFFSET, (short) 185);
        assertThat(ip.isFragment()).as("last fragment").isTrue();
        assertThat(ip.moreFragments()).isFalse();

        buffer.putShort(Ipv4Packet.FLAGS_AND_FRAGMENT_OFFSET_OFFSET, (short) 0xFFFF);
        assertThat(ip.fragmentOffset()).isEqualTo(0x1FFF * 8);
    }

    @Test
    void headerWithOptionsIsChecksummedAndSkipped() {
        // IHL 6 with a Router Alert option (RFC 2113).
        ByteBuffer buffer = ByteBuffer.wrap(Buffers.hex("4600 0020 0000 4000 0102 0000 0a000001 e0000016 94040000 2200 fdff 0000 0000"));
        assertThat(ip.wrap(buffer, 0, 32)).isTrue();
        ip.updateHeaderChecksum();
        assertThat(ip.headerChecksumValid()).isTrue();
        assertThat(InternetChecksum.checksum(buffer, 0, 24)).isZero();
        assertThat(ip.headerLength()).isEqualTo(24);
        assertThat(ip.payloadOffset()).isEqualTo(24);
        assertThat(ip.payloadLength()).isEqualTo(8);
    }

    // --- every rejection reason on its own ---

    private static ByteBuffer validPacket() {
        ByteBuffer buffer = ByteBuffer.allocate(40);
        Ipv4Packet.writeHeader(buffer, 0, 40, 1, 64, Ipv4Packet.PROTOCOL_UDP, 1, 2);
        return buffer;
    }

    @Test
    void validPacketIsAccepted() {
        assertThat(ip.wrap(validPacket(), 0, 40)).isTrue();
    }

    @Test
    void rejectsFewerThan20Bytes() {
        ByteBuffer buffer = validPacket();
        buffer.putShort(Ipv4Packet.TOTAL_LENGTH_OFFSET, (short) 19);
        assertThat(ip.wrap(buffer, 0, 19)).isFalse();
    }

    @Test
    void rejectsVersion6() {
        ByteBuffer buffer = validPacket();
        buffer.put(0, (byte) 0x65);
        assertThat(ip.wrap(buffer, 0, 40)).isFalse();
    }

    @Test
    void rejectsIhlBelow5() {
        ByteBuffer buffer = validPacket();
        buffer.put(0, (byte) 0x44);
        assertThat(ip.wrap(buffer, 0, 40)).isFalse();
    }

    @Test
    void rejectsHeaderLongerThanTheBytes() {
        ByteBuffer buffer = validPacket();
        buffer.put(0, (byte) 0x4F);
        assertThat(ip.wrap(buffer, 0, 40)).as("60-byte header in 40 bytes").isFalse();
    }

    @Test
    void rejectsTotalLengthShorterThanTheHeader() {
        ByteBuffer buffer = validPacket();
        buffer.put(0, (byte) 0x46);
        buffer.putShort(Ipv4Packet.TOTAL_LENGTH_OFFSET, (short) 20);
        assertThat(ip.wrap(buffer, 0, 40)).isFalse();
    }

    @Test
    void rejectsTotalLengthBeyondTheBytes() {
        ByteBuffer buffer = validPacket();
        buffer.putShort(Ipv4Packet.TOTAL_LENGTH_OFFSET, (short) 41);
        assertThat(ip.wrap(buffer, 0, 40)).as("truncated packet").isFalse();
        buffer.putShort(Ipv4Packet.TOTAL_LENGTH_OFFSET, (short) 0xFFFF);
        assertThat(ip.wrap(buffer, 0, 40)).isFalse();
    }

    @Test
    void rejectsRangesOutsideTheBuffer() {
        assertThat(ip.wrap(validPacket(), 1, 40)).isFalse();
        assertThat(ip.wrap(validPacket(), -4, 40)).isFalse();
        assertThat(ip.wrap(validPacket().limit(39), 0, 40)).isFalse();
        assertThat(ip.wrap(null, 0, 40)).isFalse();
    }

    @Test
    void doesNotCheckTheChecksumOnWrap() {
        ByteBuffer buffer = validPacket();
        buffer.putShort(Ipv4Packet.HEADER_CHECKSUM_OFFSET, (short) 0);
        assertThat(ip.wrap(buffer, 0, 40)).isTrue();
        assertThat(ip.headerChecksumValid()).isFalse();
    }

    @Test
    void headerLengthIsCapturedAtWrapSoRewritingIhlCannotEscapeTheRange() {
        ByteBuffer buffer = validPacket();
        assertThat(ip.wrap(buffer, 0, 20 + 20)).isTrue();
        buffer.put(0, (byte) 0x4F);
        assertThat(ip.headerLength()).isEqualTo(20);
        ip.computeHeaderChecksum();
        ip.headerChecksumValid();
    }
}
