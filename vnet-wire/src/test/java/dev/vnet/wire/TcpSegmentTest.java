package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TcpSegmentTest {
    private static final int LOCALHOST = 0x7f00_0001;

    private final Ipv4Packet ip = new Ipv4Packet();
    private final TcpSegment tcp = new TcpSegment();

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void readsARealSynWithOptions(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.TCP_SYN, offset);
        assertThat(ip.wrap(buffer, offset + 14, 60)).isTrue();
        assertThat(tcp.wrap(buffer, ip.payloadOffset(), ip.payloadLength())).isTrue();

        assertThat(tcp.sourcePort()).isEqualTo(39496);
        assertThat(tcp.destinationPort()).isEqualTo(41723);
        assertThat(tcp.sequence()).isEqualTo(0x7d6c20b9L);
        assertThat(tcp.acknowledgment()).isZero();
        assertThat(tcp.headerLength()).isEqualTo(40);
        assertThat(tcp.flags()).isEqualTo(TcpSegment.SYN);
        assertThat(tcp.hasFlags(TcpSegment.SYN)).isTrue();
        assertThat(tcp.hasFlags(TcpSegment.SYN | TcpSegment.ACK)).isFalse();
        assertThat(tcp.window()).isEqualTo(65495);
        assertThat(tcp.checksum()).isEqualTo(0xa253);
        assertThat(tcp.urgentPointer()).isZero();
        assertThat(tcp.payloadOffset()).isEqualTo(offset + 14 + 20 + 40);
        assertThat(tcp.payloadLength()).isZero();

        assertThat(tcp.checksumValid(ip.source(), ip.destination())).isTrue();
        assertThat(tcp.computeChecksum(ip.source(), ip.destination())).isEqualTo(0xa253);

        assertThat(tcp.maximumSegmentSize()).isEqualTo(65495);
        assertThat(tcp.optionOffset(TcpSegment.OPTION_MAXIMUM_SEGMENT_SIZE)).isEqualTo(tcp.offset() + 20);
        assertThat(tcp.optionOffset(TcpSegment.OPTION_SACK_PERMITTED)).isEqualTo(tcp.offset() + 24);
        assertThat(tcp.optionOffset(TcpSegment.OPTION_TIMESTAMPS)).isEqualTo(tcp.offset() + 26);
        assertThat(tcp.optionOffset(TcpSegment.OPTION_WINDOW_SCALE)).as("after a NOP").isEqualTo(tcp.offset() + 37);
        assertThat(buffer.get(tcp.optionOffset(TcpSegment.OPTION_WINDOW_SCALE) + 2)).isEqualTo((byte) 10);
        assertThat(tcp.optionOffset(5)).as("no SACK blocks in a SYN").isEqualTo(-1);
    }

    @Test
    void sequenceAndAcknowledgmentAreUnsigned() {
        ByteBuffer buffer = ByteBuffer.allocate(20);
        TcpSegment.writeHeader(buffer, 0, 1, 2, 0xFFFF_FFFEL, 0x8000_0000L, TcpSegment.ACK, 0);
        assertThat(tcp.wrap(buffer, 0, 20)).isTrue();
        assertThat(tcp.sequence()).isEqualTo(0xFFFF_FFFEL);
        assertThat(tcp.acknowledgment()).isEqualTo(0x8000_0000L);
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void writeHeaderAndSettersRoundTrip(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(new byte[24], offset);
        TcpSegment.writeHeader(buffer, offset, 80, 40000, 1, 2, TcpSegment.SYN | TcpSegment.ACK, 1024);
        assertThat(Buffers.bytes(buffer, offset, 20))
            .isEqualTo(Buffers.hex("0050 9c40 00000001 00000002 50 12 0400 0000 0000"));
        assertThat(tcp.wrap(buffer, offset, 24)).isTrue();
        assertThat(tcp.payloadLength()).isEqualTo(4);
        assertThat(tcp.maximumSegmentSize()).isEqualTo(-1);

        tcp.sourcePort(443);
        tcp.destinationPort(65535);
        tcp.sequence(0xDEAD_BEEFL);
        tcp.acknowledgment(0xCAFE_BABEL);
        tcp.flags(TcpSegment.FIN | TcpSegment.PSH | TcpSegment.ACK | TcpSegment.CWR);
        tcp.window(0xFFFF);
        tcp.checksum(0x1234);
        assertThat(Buffers.bytes(buffer, offset, 20))
            .isEqualTo(Buffers.hex("01bb ffff deadbeef cafebabe 50 99 ffff 1234 0000"));
        assertThat(tcp.sourcePort()).isEqualTo(443);
        assertThat(tcp.destinationPort()).isEqualTo(65535);
        assertThat(tcp.sequence()).isEqualTo(0xDEAD_BEEFL);
        assertThat(tcp.acknowledgment()).isEqualTo(0xCAFE_BABEL);
        assertThat(tcp.flags()).isEqualTo(0x99);
        assertThat(tcp.window()).isEqualTo(0xFFFF);
        assertThat(tcp.checksum()).isEqualTo(0x1234);

        tcp.updateChecksum(LOCALHOST, 0x0a00_0001);
        assertThat(tcp.checksumValid(LOCALHOST, 0x0a00_0001)).isTrue();
        buffer.put(offset + 23, (byte) 1);
        assertThat(tcp.checksumValid(LOCALHOST, 0x0a00_0001)).isFalse();
    }

    @Test
    void optionWalkStopsAtEndOfListAndAtMalformedOptions() {
        ByteBuffer buffer = ByteBuffer.allocate(28);
        TcpSegment.writeHeader(buffer, 0, 1, 2, 0, 0, TcpSegment.SYN, 0);
        buffer.put(TcpSegment.DATA_OFFSET_OFFSET, (byte) 0x70);

        buffer.put(20, Buffers.hex("00 020405b4 000000"));
        assertThat(tcp.wrap(buffer, 0, 28)).isTrue();
        assertThat(tcp.maximumSegmentSize()).as("after end of list").isEqualTo(-1);

        buffer.put(20, Buffers.hex("08 00 020405b4 00"));
        assertThat(tcp.maximumSegmentSize()).as("length below 2").isEqualTo(-1);

        buffer.put(20, Buffers.hex("08 ff 020405b4 00"));
        assertThat(tcp.maximumSegmentSize()).as("length past the header").isEqualTo(-1);

        buffer.put(20, Buffers.hex("01010101 020305 01"));
        assertThat(tcp.maximumSegmentSize()).as("MSS with the wrong length").isEqualTo(-1);

        buffer.put(20, Buffers.hex("01010101 01 0204"));
        assertThat(tcp.optionOffset(TcpSegment.OPTION_MAXIMUM_SEGMENT_SIZE)).as("truncated by the header end").isEqualTo(-1);

        buffer.put(20, Buffers.hex("01010101 010101 02"));
        assertThat(tcp.optionOffset(TcpSegment.OPTION_MAXIMUM_SEGMENT_SIZE)).as("kind byte is the last").isEqualTo(-1);

        buffer.put(20, Buffers.hex("0101 020405b4 01"));
        assertThat(tcp.maximumSegmentSize()).isEqualTo(1460);
    }

    private static ByteBuffer validSegment() {
        ByteBuffer buffer = ByteBuffer.allocate(24);
        TcpSegment.writeHeader(buffer, 0, 1, 2, 3, 4, TcpSegment.ACK, 5);
        buffer.put(TcpSegment.DATA_OFFSET_OFFSET, (byte) 0x60);
        return buffer;
    }

    @Test
    void validSegmentIsAccepted() {
        assertThat(tcp.wrap(validSegment(), 0, 24)).isTrue();
        assertThat(tcp.headerLength()).isEqualTo(24);
    }

    @Test
    void rejectsFewerThan20Bytes() {
        ByteBuffer buffer = validSegment();
        buffer.put(TcpSegment.DATA_OFFSET_OFFSET, (byte) 0x50);
        assertThat(tcp.wrap(buffer, 0, 19)).isFalse();
    }

    @Test
    void rejectsDataOffsetBelow5() {
        ByteBuffer buffer = validSegment();
        buffer.put(TcpSegment.DATA_OFFSET_OFFSET, (byte) 0x40);
        assertThat(tcp.wrap(buffer, 0, 24)).isFalse();
        buffer.put(TcpSegment.DATA_OFFSET_OFFSET, (byte) 0x0F);
        assertThat(tcp.wrap(buffer, 0, 24)).isFalse();
    }

    @Test
    void rejectsHeaderLongerThanTheSegment() {
        ByteBuffer buffer = validSegment();
        buffer.put(TcpSegment.DATA_OFFSET_OFFSET, (byte) 0x70);
        assertThat(tcp.wrap(buffer, 0, 24)).isFalse();
    }

    @Test
    void rejectsRangesOutsideTheBuffer() {
        assertThat(tcp.wrap(validSegment(), 5, 20)).isFalse();
        assertThat(tcp.wrap(validSegment(), Integer.MIN_VALUE, 20)).isFalse();
        assertThat(tcp.wrap(null, 0, 20)).isFalse();
    }
}
