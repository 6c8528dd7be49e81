package dev.vnet.wire.vsock;

import static dev.vnet.wire.vsock.VsockFrame.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vnet.wire.vsock.PayloadReader.Accept;
import dev.vnet.wire.vsock.PayloadReader.ConnectReply;
import dev.vnet.wire.vsock.PayloadReader.Create;
import dev.vnet.wire.vsock.PayloadReader.Datagram;
import dev.vnet.wire.vsock.PayloadReader.Goodbye;
import dev.vnet.wire.vsock.PayloadReader.Hello;
import dev.vnet.wire.vsock.PayloadReader.HelloReply;
import dev.vnet.wire.vsock.PayloadReader.SocketOption;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every op's payload, written by {@link FrameWriter}, framed, and read back by {@link PayloadReader}, in every buffer shape. */
class PayloadRoundTripTest {
    private static final int OFFSET = 5;
    private static final int GUEST_SOCKET = 7;
    private static final int REQUEST = 0x8000_0003;
    private static final String TCP_URI = "tcp://10.1.2.3:80";
    /** Two-, three- and four-byte UTF-8, and a surrogate pair. */
    private static final String UNICODE_URI = "http://bücher.例え.example/\uD83D\uDE00?q=ÿ";

    private final VsockFrame frame = new VsockFrame();
    private ByteBuffer buffer;

    @FunctionalInterface
    private interface Writer {
        int write(ByteBuffer buffer, int offset);
    }

    /** Writes one frame at {@link #OFFSET} and wraps it, checking the writer returned the frame's end. */
    private VsockFrame written(Shape shape, int op, int socketId, int requestId, Writer writer) {
        buffer = shape.allocate(OFFSET + MAX_FRAME_LENGTH + 9);
        int end = writer.write(buffer, OFFSET);
        assertThat(frame.wrap(buffer, OFFSET, end - OFFSET)).isEqualTo(VsockFrame.Outcome.WHOLE_FRAME);
        assertThat(OFFSET + frame.frameLength()).as("the writer returns the frame's end").isEqualTo(end);
        assertThat(buffer.get(end)).as("nothing written past the end").isEqualTo(Shape.JUNK);
        assertThat(frame.op()).isEqualTo(op);
        assertThat(frame.flags()).isZero();
        assertThat(frame.socketId()).isEqualTo(socketId);
        assertThat(frame.requestId()).isEqualTo(requestId);
        assertThat(buffer.position()).as("position untouched").isZero();
        return frame;
    }

    private int payloadOffset() {
        return frame.payloadOffset();
    }

    private int payloadLength() {
        return frame.payloadLength();
    }

    /** A REPLY's status, read as a requester that sent {@code requestOp} would. */
    private int status(int requestOp) {
        return PayloadReader.status(requestOp, buffer, payloadOffset(), payloadLength());
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void hello(Shape shape) {
        written(shape, OP_HELLO, SESSION_SOCKET_ID, 1, (b, o) -> FrameWriter.hello(b, o, 1, VERSION, MAX_PAYLOAD, "vm-ü-1"));
        assertThat(PayloadReader.hello(buffer, payloadOffset(), payloadLength()))
            .isEqualTo(new Hello(1, 66_048, "vm-ü-1"));

        written(shape, OP_REPLY, SESSION_SOCKET_ID, 1, (b, o) -> FrameWriter.helloReply(b, o, 1, 1, 0xFFFF_FFFFL));
        assertThat(status(OP_HELLO)).isEqualTo(STATUS_OK);
        assertThat(PayloadReader.helloReply(buffer, payloadOffset(), payloadLength()))
            .isEqualTo(new HelloReply(1, 0xFFFF_FFFFL));
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void replyWithoutDataCarriesOkOrAnErrno(Shape shape) {
        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.reply(b, o, GUEST_SOCKET, REQUEST, STATUS_OK));
        assertThat(status(OP_CREATE)).isEqualTo(STATUS_OK);
        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.reply(b, o, GUEST_SOCKET, REQUEST, ECONNREFUSED));
        assertThat(status(OP_CONNECT)).as("an error reply to an op with reply data").isEqualTo(111);
        assertThatThrownBy(() -> PayloadReader.connectReply(buffer, payloadOffset(), payloadLength()))
            .as("reading data from an error reply is the caller's bug").isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("status 111");
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void create(Shape shape) {
        written(shape, OP_CREATE, GUEST_SOCKET, REQUEST,
            (b, o) -> FrameWriter.create(b, o, GUEST_SOCKET, REQUEST, SOCKET_TYPE_DATAGRAM, FAMILY_IPV6));
        assertThat(PayloadReader.create(buffer, payloadOffset(), payloadLength()))
            .isEqualTo(new Create(SOCKET_TYPE_DATAGRAM, FAMILY_IPV6));
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void connect(Shape shape) {
        written(shape, OP_CONNECT, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.connect(b, o, GUEST_SOCKET, REQUEST, TCP_URI));
        assertThat(PayloadReader.connect(buffer, payloadOffset(), payloadLength())).isEqualTo(TCP_URI);
        assertThat(payloadLength()).isEqualTo(2 + TCP_URI.length());

        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST,
            (b, o) -> FrameWriter.connectReply(b, o, GUEST_SOCKET, REQUEST, DEFAULT_INITIAL_CREDIT, "tcp://[fd00::1]:40000"));
        assertThat(status(OP_CONNECT)).isEqualTo(STATUS_OK);
        assertThat(PayloadReader.connectReply(buffer, payloadOffset(), payloadLength()))
            .isEqualTo(new ConnectReply(262_144, "tcp://[fd00::1]:40000"));
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void bindAndListen(Shape shape) {
        written(shape, OP_BIND, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.bind(b, o, GUEST_SOCKET, REQUEST, "tcp://0.0.0.0:0"));
        assertThat(PayloadReader.bind(buffer, payloadOffset(), payloadLength())).isEqualTo("tcp://0.0.0.0:0");

        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.bindReply(b, o, GUEST_SOCKET, REQUEST, "tcp://0.0.0.0:41234"));
        assertThat(status(OP_BIND)).isEqualTo(STATUS_OK);
        assertThat(PayloadReader.bindReply(buffer, payloadOffset(), payloadLength())).isEqualTo("tcp://0.0.0.0:41234");

        written(shape, OP_LISTEN, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.listen(b, o, GUEST_SOCKET, REQUEST, 0xFFFF_FFFFL));
        assertThat(PayloadReader.listen(buffer, payloadOffset(), payloadLength())).isEqualTo(0xFFFF_FFFFL);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void accept(Shape shape) {
        written(shape, OP_ACCEPT, 8, NO_REQUEST_ID, (b, o) -> FrameWriter.accept(b, o, 8, GUEST_SOCKET, 1024, UNICODE_URI));
        assertThat(PayloadReader.accept(buffer, payloadOffset(), payloadLength()))
            .isEqualTo(new Accept(GUEST_SOCKET, 1024, UNICODE_URI));
        assertThat(payloadLength()).isEqualTo(8 + 2 + UNICODE_URI.getBytes(StandardCharsets.UTF_8).length);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void dataFromABufferOrAnArray(Shape shape) {
        byte[] bytes = new byte[1000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7);
        }
        ByteBuffer source = shape.holding(bytes, 0, bytes.length, 11);
        written(shape, OP_DATA, GUEST_SOCKET, NO_REQUEST_ID, (b, o) -> FrameWriter.data(b, o, GUEST_SOCKET, source, 11 + 100, 900));
        assertThat(payload()).isEqualTo(Arrays.copyOfRange(bytes, 100, 1000));
        assertThat(source.position()).as("the source's position is untouched").isEqualTo(11);

        written(shape, OP_DATA, GUEST_SOCKET, NO_REQUEST_ID, (b, o) -> FrameWriter.data(b, o, GUEST_SOCKET, bytes, 3, 10));
        assertThat(payload()).isEqualTo(Arrays.copyOfRange(bytes, 3, 13));

        written(shape, OP_DATA, GUEST_SOCKET, NO_REQUEST_ID, (b, o) -> FrameWriter.data(b, o, GUEST_SOCKET, bytes, 0, 0));
        assertThat(payloadLength()).isZero();
    }

    @Test
    void dataOfTheLargestPayloadAndNoMore() {
        byte[] bytes = new byte[MAX_PAYLOAD + 1];
        written(Shape.HEAP, OP_DATA, 1, 0, (b, o) -> FrameWriter.data(b, o, 1, bytes, 0, MAX_PAYLOAD));
        assertThat(payloadLength()).isEqualTo(MAX_PAYLOAD);
        ByteBuffer target = ByteBuffer.allocate(MAX_FRAME_LENGTH + 1);
        assertThatThrownBy(() -> FrameWriter.data(target, 0, 1, bytes, 0, MAX_PAYLOAD + 1))
            .isInstanceOf(IllegalArgumentException.class);
    }

    private byte[] payload() {
        byte[] bytes = new byte[payloadLength()];
        buffer.get(payloadOffset(), bytes);
        return bytes;
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void sendToAndRecvFrom(Shape shape) {
        byte[] bytes = "a datagram".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer source = shape.holding(bytes, 0, bytes.length, 2);
        written(shape, OP_SENDTO, GUEST_SOCKET, REQUEST,
            (b, o) -> FrameWriter.sendTo(b, o, GUEST_SOCKET, REQUEST, "udp://[2001:db8::53]:53", source, 2, bytes.length));
        Datagram sent = PayloadReader.sendTo(buffer, payloadOffset(), payloadLength());
        assertThat(sent.uri()).isEqualTo("udp://[2001:db8::53]:53");
        assertThat(sent.dataOffset()).isEqualTo(payloadOffset() + 2 + 23);
        assertThat(datagramBytes(sent)).isEqualTo(bytes);

        written(shape, OP_RECVFROM, GUEST_SOCKET, NO_REQUEST_ID,
            (b, o) -> FrameWriter.recvFrom(b, o, GUEST_SOCKET, "udp://8.8.8.8:53", source, 2, bytes.length));
        Datagram received = PayloadReader.recvFrom(buffer, payloadOffset(), payloadLength());
        assertThat(received.uri()).isEqualTo("udp://8.8.8.8:53");
        assertThat(datagramBytes(received)).isEqualTo(bytes);

        written(shape, OP_RECVFROM, GUEST_SOCKET, NO_REQUEST_ID,
            (b, o) -> FrameWriter.recvFrom(b, o, GUEST_SOCKET, "udp://8.8.8.8:53", source, 2, 0));
        assertThat(PayloadReader.recvFrom(buffer, payloadOffset(), payloadLength()).dataLength())
            .as("an empty datagram is a datagram").isZero();
    }

    private byte[] datagramBytes(Datagram datagram) {
        byte[] bytes = new byte[datagram.dataLength()];
        buffer.get(datagram.dataOffset(), bytes);
        return bytes;
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void shutdownAndBothCloses(Shape shape) {
        written(shape, OP_SHUTDOWN, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.shutdown(b, o, GUEST_SOCKET, REQUEST, SHUTDOWN_WRITE));
        assertThat(PayloadReader.shutdown(buffer, payloadOffset(), payloadLength())).isEqualTo(SHUTDOWN_WRITE);

        written(shape, OP_CLOSE, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.close(b, o, GUEST_SOCKET, REQUEST));
        PayloadReader.expectEmpty(OP_CLOSE, payloadLength());

        written(shape, OP_CLOSE, GUEST_SOCKET, NO_REQUEST_ID, (b, o) -> FrameWriter.hostClose(b, o, GUEST_SOCKET, ETIMEDOUT));
        assertThat(PayloadReader.hostClose(buffer, payloadOffset(), payloadLength())).isEqualTo(110);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void getSockNameAndGetPeerName(Shape shape) {
        written(shape, OP_GETSOCKNAME, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.getSockName(b, o, GUEST_SOCKET, REQUEST));
        PayloadReader.expectEmpty(OP_GETSOCKNAME, payloadLength());
        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.nameReply(b, o, GUEST_SOCKET, REQUEST, "tcp://10.0.0.5:5555"));
        assertThat(status(OP_GETSOCKNAME)).isEqualTo(STATUS_OK);
        assertThat(PayloadReader.sockNameReply(buffer, payloadOffset(), payloadLength())).isEqualTo("tcp://10.0.0.5:5555");

        written(shape, OP_GETPEERNAME, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.getPeerName(b, o, GUEST_SOCKET, REQUEST));
        PayloadReader.expectEmpty(OP_GETPEERNAME, payloadLength());
        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.nameReply(b, o, GUEST_SOCKET, REQUEST, TCP_URI));
        assertThat(PayloadReader.peerNameReply(buffer, payloadOffset(), payloadLength())).isEqualTo(TCP_URI);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void socketOptions(Shape shape) {
        written(shape, OP_SETSOCKOPT, GUEST_SOCKET, REQUEST,
            (b, o) -> FrameWriter.setSockOpt(b, o, GUEST_SOCKET, REQUEST, OPTION_SO_LINGER, LINGER_OFF));
        assertThat(PayloadReader.setSockOpt(buffer, payloadOffset(), payloadLength()))
            .as("the value is signed, so lingering off survives").isEqualTo(new SocketOption(OPTION_SO_LINGER, -1));

        written(shape, OP_GETSOCKOPT, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.getSockOpt(b, o, GUEST_SOCKET, REQUEST, OPTION_SO_RCVBUF));
        assertThat(PayloadReader.getSockOpt(buffer, payloadOffset(), payloadLength())).isEqualTo(OPTION_SO_RCVBUF);

        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.getSockOptReply(b, o, GUEST_SOCKET, REQUEST, 212_992));
        assertThat(status(OP_GETSOCKOPT)).isEqualTo(STATUS_OK);
        assertThat(PayloadReader.getSockOptReply(buffer, payloadOffset(), payloadLength())).isEqualTo(212_992);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void poll(Shape shape) {
        int events = POLL_IN | POLL_OUT | POLL_ERR | POLL_HUP;
        written(shape, OP_POLL, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.poll(b, o, GUEST_SOCKET, REQUEST, events));
        assertThat(PayloadReader.poll(buffer, payloadOffset(), payloadLength())).isEqualTo(29);

        written(shape, OP_REPLY, GUEST_SOCKET, REQUEST, (b, o) -> FrameWriter.pollReply(b, o, GUEST_SOCKET, REQUEST, POLL_OUT));
        assertThat(status(OP_POLL)).isEqualTo(STATUS_OK);
        assertThat(PayloadReader.pollReply(buffer, payloadOffset(), payloadLength())).isEqualTo(POLL_OUT);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void credit(Shape shape) {
        written(shape, OP_CREDIT, GUEST_SOCKET, NO_REQUEST_ID, (b, o) -> FrameWriter.credit(b, o, GUEST_SOCKET, 0xFFFF_FFFFL));
        assertThat(PayloadReader.credit(buffer, payloadOffset(), payloadLength())).isEqualTo(0xFFFF_FFFFL);
        written(shape, OP_CREDIT, GUEST_SOCKET, NO_REQUEST_ID, (b, o) -> FrameWriter.credit(b, o, GUEST_SOCKET, 65_536));
        assertThat(PayloadReader.credit(buffer, payloadOffset(), payloadLength())).isEqualTo(65_536);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void resolve(Shape shape) {
        written(shape, OP_RESOLVE, SESSION_SOCKET_ID, REQUEST, (b, o) -> FrameWriter.resolve(b, o, REQUEST, "dns://example.com"));
        assertThat(PayloadReader.resolve(buffer, payloadOffset(), payloadLength())).isEqualTo("dns://example.com");

        byte[] v4 = {93, (byte) 184, (byte) 215, 14};
        byte[] v6 = new byte[16];
        v6[0] = 0x26;
        v6[15] = 1;
        written(shape, OP_REPLY, SESSION_SOCKET_ID, REQUEST, (b, o) -> FrameWriter.resolveReply(b, o, REQUEST, List.of(v4, v6, v4)));
        assertThat(status(OP_RESOLVE)).isEqualTo(STATUS_OK);
        assertThat(payloadLength()).isEqualTo(4 + 2 + 5 + 17 + 5);
        assertThat(buffer.get(payloadOffset() + 6)).as("family byte").isEqualTo((byte) FAMILY_IPV4);
        assertThat(buffer.get(payloadOffset() + 11)).as("family byte").isEqualTo((byte) FAMILY_IPV6);
        assertThat(PayloadReader.resolveReply(buffer, payloadOffset(), payloadLength())).containsExactly(v4, v6, v4);

        written(shape, OP_REPLY, SESSION_SOCKET_ID, REQUEST, (b, o) -> FrameWriter.resolveReply(b, o, REQUEST, List.of()));
        assertThat(PayloadReader.resolveReply(buffer, payloadOffset(), payloadLength())).isEmpty();

        written(shape, OP_REPLY, SESSION_SOCKET_ID, REQUEST, (b, o) -> FrameWriter.reply(b, o, SESSION_SOCKET_ID, REQUEST, ENOENT));
        assertThat(status(OP_RESOLVE)).isEqualTo(ENOENT);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void goodbye(Shape shape) {
        written(shape, OP_GOODBYE, SESSION_SOCKET_ID, NO_REQUEST_ID,
            (b, o) -> FrameWriter.goodbye(b, o, EINVAL, "DATA beyond credit on socket 7"));
        assertThat(PayloadReader.goodbye(buffer, payloadOffset(), payloadLength()))
            .isEqualTo(new Goodbye(EINVAL, "DATA beyond credit on socket 7"));
    }

    @Test
    void strFieldsHoldTheirFullRangeAndNoMore() {
        String longest = "x".repeat(0xFFFF);
        written(Shape.HEAP, OP_GOODBYE, 0, 0, (b, o) -> FrameWriter.goodbye(b, o, 0, longest));
        assertThat(PayloadReader.goodbye(buffer, payloadOffset(), payloadLength()).reason()).isEqualTo(longest);
        written(Shape.HEAP, OP_CONNECT, 1, 1, (b, o) -> FrameWriter.connect(b, o, 1, 1, ""));
        assertThat(PayloadReader.connect(buffer, payloadOffset(), payloadLength())).isEmpty();

        ByteBuffer target = ByteBuffer.allocate(MAX_FRAME_LENGTH);
        assertThatThrownBy(() -> FrameWriter.goodbye(target, 0, 0, longest + "x"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reason is 65536 UTF-8 bytes");
        assertThatThrownBy(() -> FrameWriter.connect(target, 0, 1, 1, "é".repeat(0x8000)))
            .as("bytes count, not chars").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameWriter.connect(target, 0, 1, 1, "tcp://\uD800x:1"))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("URI has an unpaired surrogate at index 6");
        assertThatThrownBy(() -> FrameWriter.connect(target, 0, 1, 1, "tcp://x:1\uDC00"))
            .isInstanceOf(IllegalArgumentException.class);
        assertThat(target.array()).as("nothing written by a refused frame").containsOnly(0);
    }

    @Test
    void aDatagramAndItsUriMustFitTheLargestPayload() {
        ByteBuffer source = ByteBuffer.allocate(MAX_PAYLOAD);
        ByteBuffer target = ByteBuffer.allocate(MAX_FRAME_LENGTH);
        String uri = "udp://10.0.0.1:53";
        int room = MAX_PAYLOAD - 2 - uri.length();
        assertThat(FrameWriter.sendTo(target, 0, 1, 0, uri, source, 0, room)).isEqualTo(MAX_FRAME_LENGTH);
        assertThatThrownBy(() -> FrameWriter.sendTo(target, 0, 1, 0, uri, source, 0, room + 1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("66049");
    }

    @Test
    void writersRefuseValuesTheirFieldsCannotHold() {
        ByteBuffer target = ByteBuffer.allocate(MAX_FRAME_LENGTH);
        List<Runnable> refused = List.of(
            () -> FrameWriter.create(target, 0, 1, 1, 256, FAMILY_IPV4),
            () -> FrameWriter.create(target, 0, 1, 1, SOCKET_TYPE_STREAM, -1),
            () -> FrameWriter.hello(target, 0, 1, 0x1_0000, MAX_PAYLOAD, "vm"),
            () -> FrameWriter.hello(target, 0, 1, 1, -1, "vm"),
            () -> FrameWriter.connectReply(target, 0, 1, 1, 0x1_0000_0000L, TCP_URI),
            () -> FrameWriter.listen(target, 0, 1, 1, -1),
            () -> FrameWriter.credit(target, 0, 1, 0x1_0000_0000L),
            () -> FrameWriter.credit(target, 0, 1, -1),
            () -> FrameWriter.poll(target, 0, 1, 1, 0x1_0000),
            () -> FrameWriter.pollReply(target, 0, 1, 1, -1),
            () -> FrameWriter.getSockOpt(target, 0, 1, 1, 0x1_0000),
            () -> FrameWriter.setSockOpt(target, 0, 1, 1, -1, 0),
            () -> FrameWriter.shutdown(target, 0, 1, 1, 300),
            () -> FrameWriter.resolveReply(target, 0, 1, List.of(new byte[5])),
            () -> FrameWriter.sendTo(target, 0, 1, 1, TCP_URI, target, 0, -1));
        for (Runnable writer : refused) {
            assertThatThrownBy(writer::run).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(target.array()).as("nothing written by a refused frame").containsOnly(0);
    }
}
