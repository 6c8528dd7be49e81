package dev.vnet.wire.vsock;

import dev.vnet.wire.Bytes;

import static dev.vnet.wire.vsock.VsockFrame.HEADER_LENGTH;
import static dev.vnet.wire.vsock.VsockFrame.MAX_PAYLOAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vnet.wire.vsock.VsockFrame.Outcome;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class VsockFrameTest {
    private static final int OFFSET = 3;

    private final VsockFrame frame = new VsockFrame();

    @ParameterizedTest
    @EnumSource(Shape.class)
    void readsTheHeaderItWroteInBytes(Shape shape) {
        ByteBuffer buffer = shape.allocate(64);
        int payloadIndex = VsockFrame.writeHeader(buffer, OFFSET, VsockFrame.OP_CONNECT, 0, 0x8000_0001, 0xFFFF_FFFE, 20);

        assertThat(payloadIndex).isEqualTo(OFFSET + HEADER_LENGTH);
        byte[] header = new byte[HEADER_LENGTH];
        buffer.get(OFFSET, header);
        assertThat(header).containsExactly(
            1, 4, 0, 0,
            0x80, 0, 0, 1,
            0xFF, 0xFF, 0xFF, 0xFE,
            0, 0, 0, 20);
        assertThat(frame.wrap(buffer, OFFSET, HEADER_LENGTH + 20)).isEqualTo(Outcome.WHOLE_FRAME);
        assertThat(frame.op()).isEqualTo(VsockFrame.OP_CONNECT);
        assertThat(frame.flags()).isZero();
        assertThat(frame.socketId()).isEqualTo(0x8000_0001);
        assertThat(frame.requestId()).isEqualTo(0xFFFF_FFFE);
        assertThat(frame.payloadLength()).isEqualTo(20);
        assertThat(frame.payloadOffset()).isEqualTo(OFFSET + HEADER_LENGTH);
        assertThat(frame.frameLength()).isEqualTo(HEADER_LENGTH + 20);
        assertThat(frame.buffer()).isSameAs(buffer);
        assertThat(frame.offset()).isEqualTo(OFFSET);
        assertThat(frame.malformedReason()).isNull();
        assertThat(buffer.position()).as("position untouched").isZero();
        assertThat(buffer.limit()).as("limit untouched").isEqualTo(64);
    }

    @Test
    void saysHowMuchOfTheFrameIsThere() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        VsockFrame.writeHeader(buffer, 0, VsockFrame.OP_DATA, 0, 7, 0, 10);
        for (int available = 0; available < HEADER_LENGTH; available++) {
            assertThat(frame.wrap(buffer, 0, available)).as("available %d", available).isEqualTo(Outcome.PARTIAL_HEADER);
            assertThat(frame.buffer()).as("detached without a whole header").isNull();
        }
        for (int available = HEADER_LENGTH; available < HEADER_LENGTH + 10; available++) {
            assertThat(frame.wrap(buffer, 0, available)).as("available %d", available).isEqualTo(Outcome.PARTIAL_PAYLOAD);
            assertThat(frame.frameLength()).as("the length to wait for is known").isEqualTo(26);
            assertThat(frame.length()).isEqualTo(available);
        }
        assertThat(frame.wrap(buffer, 0, 26)).isEqualTo(Outcome.WHOLE_FRAME);
        assertThat(frame.wrap(buffer, 0, 64)).as("bytes after the frame belong to the next").isEqualTo(Outcome.WHOLE_FRAME);
        assertThat(frame.length()).isEqualTo(64);
        assertThat(frame.frameLength()).isEqualTo(26);
    }

    @Test
    void acceptsAPayloadOfExactlyTheMaximum() {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_LENGTH + MAX_PAYLOAD);
        VsockFrame.writeHeader(buffer, 0, VsockFrame.OP_SENDTO, 0, 1, 2, MAX_PAYLOAD);
        assertThat(frame.wrap(buffer, 0, HEADER_LENGTH)).isEqualTo(Outcome.PARTIAL_PAYLOAD);
        assertThat(frame.wrap(buffer, 0, buffer.capacity())).isEqualTo(Outcome.WHOLE_FRAME);
        assertThat(frame.payloadLength()).isEqualTo(65_536 + 512);
    }

    @ParameterizedTest
    @ValueSource(longs = {MAX_PAYLOAD + 1, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL})
    void refusesAPayloadOverTheMaximumFromTheHeaderAlone(long payloadLength) {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_LENGTH);
        VsockFrame.writeHeader(buffer, 0, VsockFrame.OP_DATA, 0, 1, 0, 0);
        buffer.putInt(VsockFrame.PAYLOAD_LENGTH_OFFSET, (int) payloadLength);
        assertThat(frame.wrap(buffer, 0, HEADER_LENGTH)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.malformedReason())
            .isEqualTo("payload length " + payloadLength + " of DATA exceeds the maximum 66048");
        assertThat(frame.buffer()).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2, 0x41, 255})
    void refusesAnotherVersionAtTheFirstByte(int version) {
        ByteBuffer buffer = ByteBuffer.wrap(new byte[] {(byte) version});
        assertThat(frame.wrap(buffer, 0, 1)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.malformedReason()).isEqualTo("version " + version + ", expected 1");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 21, 128, 255})
    void refusesAnUnknownOpAtTheSecondByte(int op) {
        ByteBuffer buffer = ByteBuffer.wrap(new byte[] {1, (byte) op});
        assertThat(frame.wrap(buffer, 0, 2)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.malformedReason()).isEqualTo("unknown op " + op);
    }

    @Test
    void refusesEveryReservedFlagBitOnEveryOp() {
        for (int op = VsockFrame.OP_HELLO; op <= VsockFrame.OP_GOODBYE; op++) {
            for (int bit = 0; bit < 16; bit++) {
                ByteBuffer buffer = ByteBuffer.wrap(new byte[] {1, (byte) op, (byte) (1 << bit >> 8), (byte) (1 << bit)});
                assertThat(frame.wrap(buffer, 0, 4)).as("op %d bit %d", op, bit).isEqualTo(Outcome.MALFORMED);
                assertThat(frame.malformedReason()).isEqualTo(String.format(
                    "reserved flag bits 0x%04x set on %s (version 1 defines no flags)", 1 << bit, VsockFrame.opName(op)));
            }
        }
    }

    @Test
    void neverThrowsForARegionOutsideTheBuffer() {
        ByteBuffer buffer = ByteBuffer.allocate(32).limit(20);
        assertThat(frame.wrap(null, 0, 0)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.wrap(buffer, -1, 4)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.wrap(buffer, 0, -1)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.wrap(buffer, 10, 11)).as("past the limit, though inside the capacity").isEqualTo(Outcome.MALFORMED);
        assertThat(frame.wrap(buffer, Integer.MAX_VALUE, Integer.MAX_VALUE)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.malformedReason()).isEqualTo("the frame's region lies outside the buffer");
    }

    @Test
    void aLaterWrapForgetsTheEarlierDefectAndFrame() {
        ByteBuffer good = ByteBuffer.allocate(HEADER_LENGTH);
        VsockFrame.writeHeader(good, 0, VsockFrame.OP_CLOSE, 0, 5, 6, 0);
        assertThat(frame.wrap(good, 0, HEADER_LENGTH)).isEqualTo(Outcome.WHOLE_FRAME);
        assertThat(frame.wrap(ByteBuffer.wrap(new byte[] {9}), 0, 1)).isEqualTo(Outcome.MALFORMED);
        assertThat(frame.buffer()).as("a failed wrap detaches").isNull();
        assertThat(frame.wrap(good, 0, HEADER_LENGTH)).isEqualTo(Outcome.WHOLE_FRAME);
        assertThat(frame.malformedReason()).isNull();
    }

    @Test
    void writeHeaderRefusesWhatAReceiverWouldCallMalformed() {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_LENGTH);
        assertThatThrownBy(() -> VsockFrame.writeHeader(buffer, 0, 21, 0, 1, 1, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown op 21");
        assertThatThrownBy(() -> VsockFrame.writeHeader(buffer, 0, VsockFrame.OP_DATA, 1, 1, 1, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("flags 0x1");
        assertThatThrownBy(() -> VsockFrame.writeHeader(buffer, 0, VsockFrame.OP_DATA, 0, 1, 1, MAX_PAYLOAD + 1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("66049");
        assertThatThrownBy(() -> VsockFrame.writeHeader(buffer, 0, VsockFrame.OP_DATA, 0, 1, 1, -1))
            .isInstanceOf(IllegalArgumentException.class);
        assertThat(buffer.array()).as("nothing written").containsOnly(0);
    }

    @Test
    void namesOpsAsTheSpecDoes() {
        assertThat(VsockFrame.opName(VsockFrame.OP_HELLO)).isEqualTo("HELLO");
        assertThat(VsockFrame.opName(VsockFrame.OP_RECVFROM)).isEqualTo("RECVFROM");
        assertThat(VsockFrame.opName(VsockFrame.OP_GOODBYE)).isEqualTo("GOODBYE");
        assertThat(VsockFrame.opName(0)).isEqualTo("op 0");
        assertThat(VsockFrame.opName(-3)).isEqualTo("op -3");
        assertThat(VsockFrame.isKnownOp(20)).isTrue();
        assertThat(VsockFrame.isKnownOp(21)).isFalse();
    }
}
