package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class IcmpPacketTest {
    private final Ipv4Packet ip = new Ipv4Packet();
    private final IcmpPacket icmp = new IcmpPacket();

    private void wrapInner(ByteBuffer buffer, int frameOffset, int frameLength) {
        assertThat(ip.wrap(buffer, frameOffset + 14, frameLength - 14)).isTrue();
        assertThat(icmp.wrap(buffer, ip.payloadOffset(), ip.payloadLength())).isTrue();
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void readsARealEchoRequest(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.ICMP_ECHO_REQUEST, offset);
        wrapInner(buffer, offset, RealPackets.ICMP_ECHO_REQUEST.length);

        assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REQUEST);
        assertThat(icmp.code()).isZero();
        assertThat(icmp.checksum()).isEqualTo(0x26f8);
        assertThat(icmp.computeChecksum()).isEqualTo(0x26f8);
        assertThat(icmp.checksumValid()).isTrue();
        assertThat(icmp.identifier()).isEqualTo(0x1234);
        assertThat(icmp.sequence()).isEqualTo(1);
        assertThat(icmp.payloadOffset()).isEqualTo(offset + 14 + 20 + 8);
        assertThat(icmp.payloadLength()).isEqualTo(40);
        assertThat(icmp.length()).isEqualTo(48);
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void turningTheRequestIntoAReplyReproducesTheKernelsReply(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.ICMP_ECHO_REQUEST, offset);
        wrapInner(buffer, offset, RealPackets.ICMP_ECHO_REQUEST.length);

        icmp.type(IcmpPacket.TYPE_ECHO_REPLY);
        assertThat(icmp.checksumValid()).isFalse();
        icmp.updateChecksum();

        assertThat(icmp.checksumValid()).isTrue();
        int icmpStart = 14 + 20;
        assertThat(Buffers.bytes(buffer, offset + icmpStart, 48))
            .isEqualTo(Arrays.copyOfRange(RealPackets.ICMP_ECHO_REPLY, icmpStart, icmpStart + 48));
    }

    @Test
    void readsTheKernelsReplyAndPortUnreachable() {
        ByteBuffer reply = ByteBuffer.wrap(RealPackets.ICMP_ECHO_REPLY);
        wrapInner(reply, 0, reply.capacity());
        assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
        assertThat(icmp.checksumValid()).isTrue();

        ByteBuffer unreachable = ByteBuffer.wrap(RealPackets.ICMP_PORT_UNREACHABLE);
        wrapInner(unreachable, 0, unreachable.capacity());
        assertThat(ip.typeOfService()).isEqualTo(0xc0);
        assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
        assertThat(icmp.code()).isEqualTo(3);
        assertThat(icmp.checksumValid()).isTrue();

        // The quoted datagram is a packet in its own right.
        Ipv4Packet quoted = new Ipv4Packet();
        assertThat(quoted.wrap(unreachable, icmp.payloadOffset(), icmp.payloadLength())).isTrue();
        assertThat(quoted.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_UDP);
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void settersRoundTrip(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(new byte[12], offset);
        assertThat(icmp.wrap(buffer, offset, 12)).isTrue();
        icmp.type(IcmpPacket.TYPE_TIME_EXCEEDED);
        icmp.code(1);
        icmp.identifier(0xABCD);
        icmp.sequence(0xFFFF);
        icmp.checksum(0xFEDC);

        assertThat(Buffers.bytes(buffer, offset, 12)).isEqualTo(Buffers.hex("0b 01 fedc abcd ffff 00000000"));
        assertThat(icmp.type()).isEqualTo(11);
        assertThat(icmp.code()).isEqualTo(1);
        assertThat(icmp.checksum()).isEqualTo(0xFEDC);
        assertThat(icmp.identifier()).isEqualTo(0xABCD);
        assertThat(icmp.sequence()).isEqualTo(0xFFFF);

        icmp.updateChecksum();
        assertThat(icmp.checksumValid()).isTrue();
    }

    @Test
    void checksumsAnOddLengthMessage() {
        ByteBuffer buffer = ByteBuffer.wrap(Buffers.hex("08 00 0000 0001 0002 ab"));
        assertThat(icmp.wrap(buffer, 0, 9)).isTrue();
        icmp.updateChecksum();
        assertThat(icmp.checksum()).isEqualTo(~(0x0800 + 0x0001 + 0x0002 + 0xab00) & 0xFFFF);
        assertThat(icmp.checksumValid()).isTrue();
    }

    @Test
    void detectsACorruptedMessage() {
        ByteBuffer buffer = ByteBuffer.wrap(RealPackets.ICMP_ECHO_REQUEST.clone());
        wrapInner(buffer, 0, buffer.capacity());
        buffer.put(buffer.capacity() - 1, (byte) 0);
        assertThat(icmp.checksumValid()).isFalse();
    }

    @Test
    void rejectsFewerThan8Bytes() {
        assertThat(icmp.wrap(ByteBuffer.allocate(8), 0, 7)).isFalse();
        assertThat(icmp.wrap(ByteBuffer.allocate(8), 0, 8)).isTrue();
    }

    @Test
    void rejectsRangesOutsideTheBuffer() {
        assertThat(icmp.wrap(ByteBuffer.allocate(8), 1, 8)).isFalse();
        assertThat(icmp.wrap(ByteBuffer.allocate(8), -1, 8)).isFalse();
        assertThat(icmp.wrap(null, 0, 8)).isFalse();
    }
}
