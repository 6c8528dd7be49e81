package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EthernetFrameTest {
    private final EthernetFrame frame = new EthernetFrame();

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void readsARealArpFrame(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.ARP_REQUEST, offset);

        assertThat(frame.wrap(buffer, offset, 60)).isTrue();
        assertThat(frame.destination()).isEqualTo(MacAddress.BROADCAST);
        assertThat(frame.source()).isEqualTo(MacAddress.parse("02:56:4e:00:00:01"));
        assertThat(frame.etherType()).isEqualTo(EthernetFrame.ETHER_TYPE_ARP);
        assertThat(frame.payloadOffset()).isEqualTo(offset + 14);
        assertThat(frame.payloadLength()).isEqualTo(46);
        assertThat(frame.offset()).isEqualTo(offset);
        assertThat(frame.length()).isEqualTo(60);
        assertThat(frame.buffer()).isSameAs(buffer);
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void roundTripsThroughSetters(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(new byte[14], offset);
        assertThat(frame.wrap(buffer, offset, 14)).isTrue();

        frame.destination(0x0256_4e00_0002L);
        frame.source(0x0256_4e00_0001L);
        frame.etherType(EthernetFrame.ETHER_TYPE_IPV6);

        assertThat(Buffers.bytes(buffer, offset, 14)).isEqualTo(Buffers.hex("02564e000002 02564e000001 86dd"));
        assertThat(frame.destination()).isEqualTo(0x0256_4e00_0002L);
        assertThat(frame.source()).isEqualTo(0x0256_4e00_0001L);
        assertThat(frame.etherType()).isEqualTo(0x86DD);
        assertThat(frame.payloadLength()).isZero();
    }

    @Test
    void writeHeaderMatchesSetters() {
        ByteBuffer buffer = ByteBuffer.allocate(14);
        EthernetFrame.writeHeader(buffer, 0, MacAddress.BROADCAST, 0x0256_4e00_0001L, EthernetFrame.ETHER_TYPE_VLAN);
        assertThat(buffer.array()).isEqualTo(Buffers.hex("ffffffffffff 02564e000001 8100"));
    }

    @Test
    void etherTypeIsUnsigned() {
        ByteBuffer buffer = ByteBuffer.wrap(Buffers.hex("000000000000 000000000000 ffff"));
        assertThat(frame.wrap(buffer, 0, 14)).isTrue();
        assertThat(frame.etherType()).isEqualTo(0xFFFF);
    }

    @Test
    void rejectsFramesShorterThanTheHeader() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        assertThat(frame.wrap(buffer, 0, 13)).isFalse();
        assertThat(frame.wrap(buffer, 0, 0)).isFalse();
    }

    @Test
    void rejectsRangesOutsideTheBuffer() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        assertThat(frame.wrap(buffer, 51, 14)).isFalse();
        assertThat(frame.wrap(buffer, -1, 14)).isFalse();
        assertThat(frame.wrap(buffer, 0, -1)).isFalse();
        assertThat(frame.wrap(buffer, Integer.MAX_VALUE, 14)).isFalse();
        assertThat(frame.wrap(buffer, 14, Integer.MAX_VALUE)).isFalse();
        assertThat(frame.wrap(null, 0, 14)).isFalse();
    }

    @Test
    void respectsTheLimitNotJustTheCapacity() {
        ByteBuffer buffer = ByteBuffer.allocate(64).limit(20);
        assertThat(frame.wrap(buffer, 0, 20)).isTrue();
        assertThat(frame.wrap(buffer, 0, 21)).isFalse();
    }

    @Test
    void aFailedWrapDetaches() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        assertThat(frame.wrap(buffer, 0, 64)).isTrue();
        assertThat(frame.wrap(buffer, 0, 10)).isFalse();
        assertThat(frame.buffer()).isNull();
        assertThat(frame.length()).isZero();
    }

    @Test
    void isReusableAcrossBuffers() {
        ByteBuffer first = ByteBuffer.wrap(Buffers.hex("000000000001 000000000002 0800"));
        ByteBuffer second = ByteBuffer.wrap(Buffers.hex("00 000000000003 000000000004 0806"));
        assertThat(frame.wrap(first, 0, 14)).isTrue();
        assertThat(frame.destination()).isEqualTo(1);
        assertThat(frame.wrap(second, 1, 14)).isTrue();
        assertThat(frame.destination()).isEqualTo(3);
        assertThat(frame.etherType()).isEqualTo(EthernetFrame.ETHER_TYPE_ARP);
    }

    @Test
    void neverMovesPositionOrLimit() {
        ByteBuffer buffer = ByteBuffer.allocate(64).position(7).limit(50);
        assertThat(frame.wrap(buffer, 2, 40)).isTrue();
        frame.destination(1);
        frame.source(2);
        frame.etherType(3);
        frame.destination();
        frame.etherType();
        assertThat(buffer.position()).isEqualTo(7);
        assertThat(buffer.limit()).isEqualTo(50);
    }
}
