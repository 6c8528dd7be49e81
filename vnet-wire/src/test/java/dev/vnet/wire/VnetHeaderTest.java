package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vnet.wire.VnetHeader.Verdict;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class VnetHeaderTest {
    private final VnetHeader header = new VnetHeader();

    /** A vnet datagram payload: header for network 7, then the real ARP request frame. */
    private static byte[] datagram(int networkId) {
        ByteBuffer buffer = ByteBuffer.allocate(VnetHeader.LENGTH + RealPackets.ARP_REQUEST.length);
        VnetHeader.write(buffer, 0, networkId);
        buffer.put(VnetHeader.LENGTH, RealPackets.ARP_REQUEST);
        return buffer.array();
    }

    @Test
    void writesTheDocumentedBytes() {
        ByteBuffer buffer = ByteBuffer.allocate(8);
        VnetHeader.write(buffer, 0, 0x0102_0304);
        assertThat(buffer.array()).isEqualTo(Buffers.hex("56 01 01 00 01020304"));
    }

    @ParameterizedTest
    @MethodSource("dev.vnet.wire.Buffers#shapes")
    void roundTripsAndLeadsToTheInnerFrame(Buffers.Kind kind, int offset) {
        byte[] bytes = datagram(7);
        ByteBuffer buffer = kind.holding(bytes, offset);

        assertThat(header.wrap(buffer, offset, bytes.length)).isTrue();
        assertThat(header.networkId()).isEqualTo(7);
        assertThat(header.innerOffset()).isEqualTo(offset + 8);
        assertThat(header.innerLength()).isEqualTo(60);
        assertThat(header.offset()).isEqualTo(offset);
        assertThat(header.length()).isEqualTo(68);

        EthernetFrame inner = new EthernetFrame();
        assertThat(inner.wrap(buffer, header.innerOffset(), header.innerLength())).isTrue();
        assertThat(inner.etherType()).isEqualTo(EthernetFrame.ETHER_TYPE_ARP);
    }

    @Test
    void networkIdIsTheRaw32Bits() {
        byte[] bytes = datagram(0xFFFF_FFFE);
        assertThat(header.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isTrue();
        assertThat(header.networkId()).isEqualTo(0xFFFF_FFFE);
        assertThat(Integer.toUnsignedLong(header.networkId())).isEqualTo(4_294_967_294L);
    }

    @Test
    void acceptsTheShortestPossibleDatagram() {
        byte[] bytes = Arrays.copyOf(datagram(1), VnetHeader.MIN_DATAGRAM_LENGTH);
        assertThat(VnetHeader.check(ByteBuffer.wrap(bytes), 0, 22)).isEqualTo(Verdict.ACCEPTED);
        assertThat(header.wrap(ByteBuffer.wrap(bytes), 0, 22)).isTrue();
        assertThat(header.innerLength()).isEqualTo(EthernetFrame.MIN_LENGTH);
    }

    // --- every rejection reason on its own, through both check() and wrap() ---

    private void assertRejected(byte[] bytes, int length, Verdict expected) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        assertThat(VnetHeader.check(buffer, 0, length)).isEqualTo(expected);
        assertThat(header.wrap(buffer, 0, length)).isFalse();
        assertThat(header.buffer()).isNull();
    }

    @Test
    void rejectsAHeaderWithoutAnInnerEthernetHeader() {
        assertRejected(datagram(1), 21, Verdict.TOO_SHORT);
        assertRejected(datagram(1), 8, Verdict.TOO_SHORT);
        assertRejected(new byte[0], 0, Verdict.TOO_SHORT);
    }

    @Test
    void rejectsBadMagic() {
        byte[] bytes = datagram(1);
        bytes[VnetHeader.MAGIC_OFFSET] = 0x08;
        assertRejected(bytes, bytes.length, Verdict.BAD_MAGIC);
    }

    @Test
    void rejectsOtherVersions() {
        byte[] bytes = datagram(1);
        bytes[VnetHeader.VERSION_OFFSET] = 2;
        assertRejected(bytes, bytes.length, Verdict.UNSUPPORTED_VERSION);
        bytes[VnetHeader.VERSION_OFFSET] = 0;
        assertRejected(bytes, bytes.length, Verdict.UNSUPPORTED_VERSION);
    }

    @Test
    void rejectsUnknownNextHeader() {
        byte[] bytes = datagram(1);
        bytes[VnetHeader.NEXT_HEADER_OFFSET] = 4;
        assertRejected(bytes, bytes.length, Verdict.UNKNOWN_NEXT_HEADER);
    }

    @Test
    void rejectsNonZeroReserved() {
        byte[] bytes = datagram(1);
        bytes[VnetHeader.RESERVED_OFFSET] = (byte) 0x80;
        assertRejected(bytes, bytes.length, Verdict.RESERVED_NOT_ZERO);
    }

    @Test
    void rejectsNetworkIdZero() {
        byte[] bytes = datagram(0);
        assertRejected(bytes, bytes.length, Verdict.ZERO_NETWORK_ID);
    }

    @Test
    void rejectsRangesOutsideTheBuffer() {
        ByteBuffer buffer = ByteBuffer.wrap(datagram(1));
        assertThat(VnetHeader.check(buffer, 1, 68)).isEqualTo(Verdict.OUT_OF_BOUNDS);
        assertThat(VnetHeader.check(buffer, -1, 22)).isEqualTo(Verdict.OUT_OF_BOUNDS);
        assertThat(VnetHeader.check(null, 0, 22)).isEqualTo(Verdict.OUT_OF_BOUNDS);
        assertThat(header.wrap(buffer, 1, 68)).isFalse();
    }

    @Test
    void reportsTheFirstProblemInHeaderOrder() {
        assertRejected(new byte[22], 22, Verdict.BAD_MAGIC);
        byte[] everythingWrong = Buffers.hex("56 02 02 01 00000000 0000000000000000000000000000");
        assertRejected(everythingWrong, 22, Verdict.UNSUPPORTED_VERSION);
    }
}
