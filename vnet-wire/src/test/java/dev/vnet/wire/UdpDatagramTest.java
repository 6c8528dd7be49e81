package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class UdpDatagramTest {
    private static final int LOCALHOST = 0x7f00_0001;

    private final Ipv4Packet ip = new Ipv4Packet();
    private final UdpDatagram udp = new UdpDatagram();

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void readsARealDatagramAndVerifiesItsChecksum(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.UDP_HELLO, offset);
        assertThat(ip.wrap(buffer, offset + 14, RealPackets.UDP_HELLO.length - 14)).isTrue();
        assertThat(udp.wrap(buffer, ip.payloadOffset(), ip.payloadLength())).isTrue();

        assertThat(udp.sourcePort()).isEqualTo(42151);
        assertThat(udp.destinationPort()).isEqualTo(47900);
        assertThat(udp.lengthField()).isEqualTo(18);
        assertThat(udp.checksum()).isEqualTo(0x822e);
        assertThat(udp.computeChecksum(ip.source(), ip.destination())).isEqualTo(0x822e);
        assertThat(udp.checksumValid(ip.source(), ip.destination())).isTrue();
        assertThat(udp.checksumValid(ip.source(), 0x7f00_0002)).as("pseudo-header covers addresses").isFalse();
        assertThat(udp.payloadOffset()).isEqualTo(offset + 42);
        assertThat(udp.payloadLength()).isEqualTo(10);
        assertThat(Buffers.bytes(buffer, udp.payloadOffset(), udp.payloadLength()))
            .isEqualTo("hello vnet".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void lengthFieldBoundsThePayloadNotTheAvailableBytes() {
        byte[] padded = Arrays.copyOf(Arrays.copyOfRange(RealPackets.UDP_HELLO, 34, 52), 26);
        ByteBuffer buffer = ByteBuffer.wrap(padded);
        assertThat(udp.wrap(buffer, 0, 26)).isTrue();
        assertThat(udp.payloadLength()).isEqualTo(10);
        assertThat(udp.length()).isEqualTo(26);
        assertThat(udp.checksumValid(LOCALHOST, LOCALHOST)).as("padding is not summed").isTrue();
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void writeHeaderAndSettersRoundTrip(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(new byte[12], offset);
        UdpDatagram.writeHeader(buffer, offset, 40000, 47900, 4);
        assertThat(Buffers.bytes(buffer, offset, 8)).isEqualTo(Buffers.hex("9c40 bb1c 000c 0000"));

        assertThat(udp.wrap(buffer, offset, 12)).isTrue();
        assertThat(udp.checksum()).isZero();
        assertThat(udp.checksumValid(1, 2)).as("zero means not computed").isTrue();

        udp.sourcePort(65535);
        udp.destinationPort(1);
        udp.lengthField(10);
        udp.checksum(0xABCD);
        assertThat(Buffers.bytes(buffer, offset, 8)).isEqualTo(Buffers.hex("ffff 0001 000a abcd"));
        assertThat(udp.sourcePort()).isEqualTo(65535);
        assertThat(udp.destinationPort()).isEqualTo(1);
        assertThat(udp.lengthField()).isEqualTo(10);
        assertThat(udp.payloadLength()).isEqualTo(2);
        assertThat(udp.checksum()).isEqualTo(0xABCD);

        udp.updateChecksum(0x0a00_0001, 0x0a00_0002);
        assertThat(udp.checksumValid(0x0a00_0001, 0x0a00_0002)).isTrue();
    }

    @Test
    void aComputedZeroIsSentAsAllOnes() {
        // Choose the payload so that everything else sums to 0xFFFF.
        ByteBuffer buffer = ByteBuffer.allocate(10);
        UdpDatagram.writeHeader(buffer, 0, 0, 0, 2);
        assertThat(udp.wrap(buffer, 0, 10)).isTrue();
        int rest = InternetChecksum.pseudoHeaderSumIpv4(0, 0, Ipv4Packet.PROTOCOL_UDP, 10) + 10;
        buffer.putShort(8, (short) (0xFFFF - rest));
        assertThat(udp.computeChecksum(0, 0)).isEqualTo(0xFFFF);
        udp.updateChecksum(0, 0);
        assertThat(udp.checksumValid(0, 0)).isTrue();
    }

    private static ByteBuffer validDatagram() {
        ByteBuffer buffer = ByteBuffer.allocate(12);
        UdpDatagram.writeHeader(buffer, 0, 1, 2, 4);
        return buffer;
    }

    @Test
    void validDatagramIsAccepted() {
        assertThat(udp.wrap(validDatagram(), 0, 12)).isTrue();
    }

    @Test
    void rejectsFewerThan8Bytes() {
        ByteBuffer buffer = validDatagram();
        buffer.putShort(UdpDatagram.LENGTH_OFFSET, (short) 7);
        assertThat(udp.wrap(buffer, 0, 7)).isFalse();
    }

    @Test
    void rejectsLengthFieldBelowTheHeader() {
        ByteBuffer buffer = validDatagram();
        buffer.putShort(UdpDatagram.LENGTH_OFFSET, (short) 7);
        assertThat(udp.wrap(buffer, 0, 12)).isFalse();
        buffer.putShort(UdpDatagram.LENGTH_OFFSET, (short) 0);
        assertThat(udp.wrap(buffer, 0, 12)).isFalse();
    }

    @Test
    void rejectsLengthFieldBeyondTheBytes() {
        ByteBuffer buffer = validDatagram();
        buffer.putShort(UdpDatagram.LENGTH_OFFSET, (short) 13);
        assertThat(udp.wrap(buffer, 0, 12)).isFalse();
        buffer.putShort(UdpDatagram.LENGTH_OFFSET, (short) 0xFFFF);
        assertThat(udp.wrap(buffer, 0, 12)).isFalse();
    }

    @Test
    void rejectsRangesOutsideTheBuffer() {
        assertThat(udp.wrap(validDatagram(), 1, 12)).isFalse();
        assertThat(udp.wrap(validDatagram(), 0, -12)).isFalse();
        assertThat(udp.wrap(null, 0, 12)).isFalse();
    }

    @Test
    void checksumStaysInsideTheWrappedRangeWhateverTheLengthFieldSays() {
        ByteBuffer buffer = ByteBuffer.allocate(12);
        UdpDatagram.writeHeader(buffer, 0, 1, 2, 4);
        assertThat(udp.wrap(buffer, 0, 12)).isTrue();
        udp.lengthField(0xFFFF);
        udp.computeChecksum(1, 2);
        udp.checksum(1);
        udp.checksumValid(1, 2);
        udp.lengthField(0);
        udp.computeChecksum(1, 2);
        udp.checksumValid(1, 2);
    }
}
