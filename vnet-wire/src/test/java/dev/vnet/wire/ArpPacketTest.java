package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ArpPacketTest {
    private static final int GATEWAY = 0x0a00_0001;
    private static final int HOST = 0x0a00_0002;
    private static final long GATEWAY_MAC = 0x0256_4e00_0001L;
    private static final long HOST_MAC = 0x0256_4e00_0002L;

    private final ArpPacket arp = new ArpPacket();

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void readsARequestInsideAPaddedFrame(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(RealPackets.ARP_REQUEST, offset);
        EthernetFrame frame = new EthernetFrame();
        assertThat(frame.wrap(buffer, offset, RealPackets.ARP_REQUEST.length)).isTrue();

        assertThat(arp.wrap(buffer, frame.payloadOffset(), frame.payloadLength())).isTrue();
        assertThat(arp.operation()).isEqualTo(ArpPacket.OP_REQUEST);
        assertThat(arp.senderMac()).isEqualTo(GATEWAY_MAC);
        assertThat(arp.senderIp()).isEqualTo(GATEWAY);
        assertThat(arp.targetMac()).isZero();
        assertThat(arp.targetIp()).isEqualTo(HOST);
        assertThat(arp.offset()).isEqualTo(offset + 14);
        assertThat(arp.length()).isEqualTo(46);
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void writeRequestProducesTheSameBytesLinuxSends(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(new byte[28], offset);
        ArpPacket.writeRequest(buffer, offset, GATEWAY_MAC, GATEWAY, HOST);
        assertThat(Buffers.bytes(buffer, offset, 28)).isEqualTo(java.util.Arrays.copyOfRange(RealPackets.ARP_REQUEST, 14, 42));
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void replyRoundTrips(Buffers.Kind kind, int offset) {
        ByteBuffer buffer = kind.holding(new byte[28], offset);
        ArpPacket.writeReply(buffer, offset, HOST_MAC, HOST, GATEWAY_MAC, GATEWAY);

        assertThat(Buffers.bytes(buffer, offset, 28))
            .isEqualTo(Buffers.hex("0001 0800 06 04 0002 02564e000002 0a000002 02564e000001 0a000001"));
        assertThat(arp.wrap(buffer, offset, 28)).isTrue();
        assertThat(arp.operation()).isEqualTo(ArpPacket.OP_REPLY);
        assertThat(arp.senderMac()).isEqualTo(HOST_MAC);
        assertThat(arp.senderIp()).isEqualTo(HOST);
        assertThat(arp.targetMac()).isEqualTo(GATEWAY_MAC);
        assertThat(arp.targetIp()).isEqualTo(GATEWAY);
    }

    private static ByteBuffer validReply() {
        ByteBuffer buffer = ByteBuffer.allocate(28);
        ArpPacket.writeReply(buffer, 0, HOST_MAC, HOST, GATEWAY_MAC, GATEWAY);
        return buffer;
    }

    @Test
    void acceptsAnyOperationSoCallersCanIgnoreIt() {
        ByteBuffer buffer = validReply();
        buffer.putShort(ArpPacket.OPERATION_OFFSET, (short) 0xFFFF);
        assertThat(arp.wrap(buffer, 0, 28)).isTrue();
        assertThat(arp.operation()).isEqualTo(0xFFFF);
    }

    @Test
    void rejectsTooShort() {
        assertThat(arp.wrap(validReply(), 0, 27)).isFalse();
    }

    @Test
    void rejectsNonEthernetHardwareType() {
        ByteBuffer buffer = validReply();
        buffer.putShort(ArpPacket.HARDWARE_TYPE_OFFSET, (short) 6);
        assertThat(arp.wrap(buffer, 0, 28)).isFalse();
    }

    @Test
    void rejectsNonIpv4ProtocolType() {
        ByteBuffer buffer = validReply();
        buffer.putShort(ArpPacket.PROTOCOL_TYPE_OFFSET, (short) 0x86DD);
        assertThat(arp.wrap(buffer, 0, 28)).isFalse();
    }

    @Test
    void rejectsWrongHardwareLength() {
        ByteBuffer buffer = validReply();
        buffer.put(ArpPacket.HARDWARE_LENGTH_OFFSET, (byte) 8);
        assertThat(arp.wrap(buffer, 0, 28)).isFalse();
    }

    @Test
    void rejectsWrongProtocolLength() {
        ByteBuffer buffer = validReply();
        buffer.put(ArpPacket.PROTOCOL_LENGTH_OFFSET, (byte) 16);
        assertThat(arp.wrap(buffer, 0, 28)).isFalse();
    }

    @Test
    void rejectsRangesOutsideTheBuffer() {
        assertThat(arp.wrap(validReply(), 1, 28)).isFalse();
        assertThat(arp.wrap(validReply(), -1, 28)).isFalse();
        assertThat(arp.wrap(null, 0, 28)).isFalse();
    }
}
