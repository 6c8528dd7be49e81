package dev.vnet.wire.vsock;

import static dev.vnet.wire.vsock.VsockFrame.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Payloads that do not hold what their op says: every one is a {@link MalformedPayloadException} naming the op and the field. */
class MalformedPayloadTest {
    @FunctionalInterface
    interface Writer {
        int write(ByteBuffer buffer, int offset);
    }

    @FunctionalInterface
    interface Reader {
        Object read(ByteBuffer buffer, int offset, int length);
    }

    /**
     * One reader with a well-formed sample to damage. {@code restIsData}: the payload ends in datagram
     * bytes, so nothing can trail it.
     */
    record Case(int op, boolean reply, Writer sample, Reader reader, List<String> fields, boolean restIsData) {
        @Override
        public String toString() {
            return opName(op) + (reply ? " reply" : "");
        }
    }

    private static final byte[] V4 = {10, 0, 0, 1};
    private static final byte[] V6 = new byte[16];

    static Stream<Case> cases() {
        ByteBuffer datagram = ByteBuffer.wrap(new byte[] {1, 2, 3});
        return Stream.of(
            new Case(OP_HELLO, false, (b, o) -> FrameWriter.hello(b, o, 1, 1, MAX_PAYLOAD, "vm-1"), PayloadReader::hello,
                List.of("version", "max payload", "guest name"), false),
            new Case(OP_HELLO, true, (b, o) -> FrameWriter.helloReply(b, o, 1, 1, MAX_PAYLOAD), PayloadReader::helloReply,
                List.of("status", "version", "max payload"), false),
            new Case(OP_CREATE, false, (b, o) -> FrameWriter.create(b, o, 1, 1, 1, 4), PayloadReader::create,
                List.of("type", "family"), false),
            new Case(OP_CONNECT, false, (b, o) -> FrameWriter.connect(b, o, 1, 1, "tcp://10.1.2.3:80"), PayloadReader::connect,
                List.of("URI"), false),
            new Case(OP_CONNECT, true, (b, o) -> FrameWriter.connectReply(b, o, 1, 1, 4096, "tcp://10.0.0.2:5000"),
                PayloadReader::connectReply, List.of("status", "initial credit", "local URI"), false),
            new Case(OP_BIND, false, (b, o) -> FrameWriter.bind(b, o, 1, 1, "tcp://0.0.0.0:8080"), PayloadReader::bind,
                List.of("URI"), false),
            new Case(OP_BIND, true, (b, o) -> FrameWriter.bindReply(b, o, 1, 1, "tcp://0.0.0.0:8080"), PayloadReader::bindReply,
                List.of("status", "bound URI"), false),
            new Case(OP_LISTEN, false, (b, o) -> FrameWriter.listen(b, o, 1, 1, 128), PayloadReader::listen,
                List.of("backlog"), false),
            new Case(OP_ACCEPT, false, (b, o) -> FrameWriter.accept(b, o, 2, 1, 4096, "tcp://10.0.0.9:1234"), PayloadReader::accept,
                List.of("listening socket id", "initial credit", "peer URI"), false),
            new Case(OP_SENDTO, false, (b, o) -> FrameWriter.sendTo(b, o, 1, 0, "udp://10.0.0.1:53", datagram, 0, 3),
                PayloadReader::sendTo, List.of("URI"), true),
            new Case(OP_RECVFROM, false, (b, o) -> FrameWriter.recvFrom(b, o, 1, "udp://10.0.0.1:53", datagram, 0, 3),
                PayloadReader::recvFrom, List.of("source URI"), true),
            new Case(OP_SHUTDOWN, false, (b, o) -> FrameWriter.shutdown(b, o, 1, 1, SHUTDOWN_BOTH), PayloadReader::shutdown,
                List.of("how"), false),
            new Case(OP_CLOSE, false, (b, o) -> FrameWriter.hostClose(b, o, 1, ECONNREFUSED), PayloadReader::hostClose,
                List.of("errno"), false),
            new Case(OP_GETSOCKNAME, true, (b, o) -> FrameWriter.nameReply(b, o, 1, 1, "tcp://10.0.0.2:5000"),
                PayloadReader::sockNameReply, List.of("status", "URI"), false),
            new Case(OP_GETPEERNAME, true, (b, o) -> FrameWriter.nameReply(b, o, 1, 1, "tcp://10.0.0.3:80"),
                PayloadReader::peerNameReply, List.of("status", "URI"), false),
            new Case(OP_SETSOCKOPT, false, (b, o) -> FrameWriter.setSockOpt(b, o, 1, 1, OPTION_SO_LINGER, 5),
                PayloadReader::setSockOpt, List.of("option", "value"), false),
            new Case(OP_GETSOCKOPT, false, (b, o) -> FrameWriter.getSockOpt(b, o, 1, 1, OPTION_TCP_NODELAY),
                PayloadReader::getSockOpt, List.of("option"), false),
            new Case(OP_GETSOCKOPT, true, (b, o) -> FrameWriter.getSockOptReply(b, o, 1, 1, 1), PayloadReader::getSockOptReply,
                List.of("status", "value"), false),
            new Case(OP_POLL, false, (b, o) -> FrameWriter.poll(b, o, 1, 1, POLL_IN), PayloadReader::poll,
                List.of("events"), false),
            new Case(OP_POLL, true, (b, o) -> FrameWriter.pollReply(b, o, 1, 1, POLL_IN), PayloadReader::pollReply,
                List.of("status", "revents"), false),
            new Case(OP_CREDIT, false, (b, o) -> FrameWriter.credit(b, o, 1, 4096), PayloadReader::credit,
                List.of("credit"), false),
            new Case(OP_RESOLVE, false, (b, o) -> FrameWriter.resolve(b, o, 1, "dns://example.com"), PayloadReader::resolve,
                List.of("URI"), false),
            new Case(OP_RESOLVE, true, (b, o) -> FrameWriter.resolveReply(b, o, 1, List.of(V4, V6)), PayloadReader::resolveReply,
                List.of("status", "count", "address 0 family", "address 0", "address 1 family", "address 1"), false),
            new Case(OP_GOODBYE, false, (b, o) -> FrameWriter.goodbye(b, o, EINVAL, "bye"), PayloadReader::goodbye,
                List.of("status", "reason"), false));
    }

    private final VsockFrame frame = new VsockFrame();

    /** The sample written at offset 2 of a buffer with room after it, wrapped. */
    private ByteBuffer sample(Case c) {
        ByteBuffer buffer = Shape.HEAP.allocate(256);
        int end = c.sample().write(buffer, 2);
        assertThat(frame.wrap(buffer, 2, end - 2)).isEqualTo(VsockFrame.Outcome.WHOLE_FRAME);
        return buffer;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyTruncationNamesTheOpAndTheFieldItCut(Case c) {
        ByteBuffer buffer = sample(c);
        assertThat(c.reader().read(buffer, frame.payloadOffset(), frame.payloadLength())).as("the sample reads").isNotNull();
        int shortest = c.restIsData() ? frame.payloadLength() - 3 : frame.payloadLength();
        for (int cut = 0; cut < shortest; cut++) {
            int length = cut;
            MalformedPayloadException e = catchThrowableOfType(MalformedPayloadException.class,
                () -> c.reader().read(buffer, frame.payloadOffset(), length));
            assertThat(e).as("%s cut to %d bytes", c, cut).isNotNull();
            assertThat(e.op()).isEqualTo(c.op());
            assertThat(e.reply()).isEqualTo(c.reply());
            assertThat(e.field()).isIn(c.fields());
            assertThat(e.getMessage()).startsWith(c + ": " + e.field() + " ");
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void aByteAfterTheLastFieldIsMalformed(Case c) {
        ByteBuffer buffer = sample(c);
        if (c.restIsData()) {
            Object datagram = c.reader().read(buffer, frame.payloadOffset(), frame.payloadLength() + 1);
            assertThat(((PayloadReader.Datagram) datagram).dataLength()).as("the rest is the datagram").isEqualTo(4);
            return;
        }
        assertThatThrownBy(() -> c.reader().read(buffer, frame.payloadOffset(), frame.payloadLength() + 1))
            .isInstanceOf(MalformedPayloadException.class)
            .hasMessage(c + ": payload has 1 byte after its last field")
            .extracting(e -> ((MalformedPayloadException) e).field()).isEqualTo("payload");
    }

    @Test
    void saysWhatIsWrongWithTheField() {
        assertThat(message(cases().filter(c -> c.op() == OP_CONNECT && !c.reply()), 1))
            .isEqualTo("CONNECT: URI length is truncated: needs 2 bytes, 1 left");
        assertThat(message(cases().filter(c -> c.op() == OP_CONNECT && !c.reply()), 10))
            .isEqualTo("CONNECT: URI declares 17 bytes, only 8 left");
        assertThat(message(cases().filter(c -> c.op() == OP_CONNECT && c.reply()), 2))
            .isEqualTo("CONNECT reply: status is truncated: needs 4 bytes, 2 left");
        assertThat(message(cases().filter(c -> c.op() == OP_ACCEPT), 6))
            .isEqualTo("ACCEPT: initial credit is truncated: needs 4 bytes, 2 left");
        assertThat(message(cases().filter(c -> c.op() == OP_HELLO && !c.reply()), 3))
            .isEqualTo("HELLO: max payload is truncated: needs 4 bytes, 1 left");
        assertThat(message(cases().filter(c -> c.op() == OP_CREATE), 1))
            .isEqualTo("CREATE: family is truncated: needs 1 byte, 0 left");
        assertThat(message(cases().filter(c -> c.op() == OP_RESOLVE && c.reply()), 4 + 2 + 5 + 1 + 5))
            .isEqualTo("RESOLVE reply: address 1 is truncated: needs 16 bytes, 5 left");
        assertThat(message(cases().filter(c -> c.op() == OP_CREDIT), 3))
            .isEqualTo("CREDIT: credit is truncated: needs 4 bytes, 3 left");
        assertThat(message(cases().filter(c -> c.op() == OP_GOODBYE), 5))
            .isEqualTo("GOODBYE: reason length is truncated: needs 2 bytes, 1 left");
    }

    private String message(Stream<Case> only, int cut) {
        Case c = only.findFirst().orElseThrow();
        ByteBuffer buffer = sample(c);
        return catchThrowableOfType(MalformedPayloadException.class,
            () -> c.reader().read(buffer, frame.payloadOffset(), cut)).getMessage();
    }

    @Test
    void aStrLongerThanThePayloadIsMalformed() {
        ByteBuffer buffer = ByteBuffer.wrap(new byte[] {(byte) 0xFF, (byte) 0xFF, 'a', 'b', 'c'});
        assertThatThrownBy(() -> PayloadReader.connect(buffer, 0, 5))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("CONNECT: URI declares 65535 bytes, only 3 left");
        assertThatThrownBy(() -> PayloadReader.connect(buffer, 0, 0))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("CONNECT: URI length is truncated: needs 2 bytes, 0 left");
    }

    @ParameterizedTest
    @ValueSource(strings = {"C080", "FF", "EDA080", "E282", "80", "F4908080"})
    void aStrThatIsNotUtf8IsMalformed(String hex) {
        byte[] bad = java.util.HexFormat.of().parseHex(hex);
        ByteBuffer buffer = ByteBuffer.allocate(2 + 4 + bad.length);
        buffer.putShort(0, (short) (bad.length + 4)).put(2, new byte[] {'t', 'c', 'p', ':'}).put(6, bad);
        assertThatThrownBy(() -> PayloadReader.connect(buffer, 0, buffer.capacity()))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("CONNECT: URI is not valid UTF-8")
            .extracting(e -> ((MalformedPayloadException) e).field()).isEqualTo("URI");

        ByteBuffer goodbye = ByteBuffer.allocate(4 + buffer.capacity()).put(4, buffer.array());
        assertThatThrownBy(() -> PayloadReader.goodbye(goodbye, 0, goodbye.capacity()))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("GOODBYE: reason is not valid UTF-8");
    }

    @Test
    void aResolvedAddressOfAnUnknownFamilyIsMalformed() {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 2 + 5 + 5);
        buffer.putShort(4, (short) 2).put(6, (byte) 4).put(11, (byte) 5);
        assertThatThrownBy(() -> PayloadReader.resolveReply(buffer, 0, buffer.capacity()))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("RESOLVE reply: address 1 family is 5, neither 4 nor 6");
        buffer.putShort(4, (short) 0xFFFF);
        assertThatThrownBy(() -> PayloadReader.resolveReply(buffer, 0, 6))
            .as("a count the payload cannot hold").isInstanceOf(MalformedPayloadException.class)
            .hasMessage("RESOLVE reply: address 0 family is truncated: needs 1 byte, 0 left");
    }

    @Test
    void aReplyStatusIsTheWholeReplyUnlessTheOpHasReplyData() {
        ByteBuffer buffer = ByteBuffer.allocate(8);
        buffer.putInt(0, ECONNREFUSED);
        assertThat(PayloadReader.status(OP_CONNECT, buffer, 0, 4)).isEqualTo(ECONNREFUSED);
        assertThatThrownBy(() -> PayloadReader.status(OP_CONNECT, buffer, 0, 6))
            .as("an error reply carries no data").isInstanceOf(MalformedPayloadException.class)
            .hasMessage("CONNECT reply: payload has 2 bytes after its last field");
        buffer.putInt(0, STATUS_OK);
        assertThat(PayloadReader.status(OP_CONNECT, buffer, 0, 8)).as("the data is connectReply's to check").isZero();
        assertThatThrownBy(() -> PayloadReader.status(OP_CREATE, buffer, 0, 5))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("CREATE reply: payload has 1 byte after its last field");
        assertThatThrownBy(() -> PayloadReader.status(OP_LISTEN, buffer, 0, 3))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("LISTEN reply: status is truncated: needs 4 bytes, 3 left");
        assertThatThrownBy(() -> PayloadReader.status(99, buffer, 0, 4)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEmptyPayloadMustBeEmpty() {
        PayloadReader.expectEmpty(OP_CLOSE, 0);
        assertThatThrownBy(() -> PayloadReader.expectEmpty(OP_CLOSE, 4))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("CLOSE: payload has 4 bytes, expected none");
        assertThatThrownBy(() -> PayloadReader.expectEmpty(OP_GETPEERNAME, 1))
            .isInstanceOf(MalformedPayloadException.class).hasMessage("GETPEERNAME: payload has 1 byte, expected none");
    }

    @Test
    void aRegionOutsideTheBufferIsTheCallersBug() {
        ByteBuffer buffer = ByteBuffer.allocate(8).limit(6);
        assertThatThrownBy(() -> PayloadReader.credit(buffer, 4, 4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> PayloadReader.connect(buffer, -1, 2)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 5, 8})
    void randomPayloadsOnlyEverGiveMalformedPayloadException(long seed) {
        Random random = new Random(seed);
        List<Case> cases = cases().toList();
        int read = 0;
        for (int i = 0; i < 20_000; i++) {
            Case c = cases.get(random.nextInt(cases.size()));
            byte[] bytes = new byte[random.nextInt(40)];
            random.nextBytes(bytes);
            if (random.nextBoolean() && bytes.length >= 6) {
                // Plausible: an ok status, small counts and lengths, so readers get past the first field.
                bytes[0] = bytes[1] = bytes[2] = bytes[3] = 0;
                bytes[4] = 0;
                bytes[5] = (byte) random.nextInt(6);
            }
            ByteBuffer buffer = Shape.values()[random.nextInt(4)].holding(bytes, 0, bytes.length, 3);
            try {
                if (c.reply() && PayloadReader.status(c.op(), buffer, 3, bytes.length) != STATUS_OK) {
                    continue;
                }
                c.reader().read(buffer, 3, bytes.length);
                read++;
            } catch (MalformedPayloadException expected) {
                assertThat(expected.op()).isEqualTo(c.op());
            }
            assertThat(buffer.position()).isEqualTo(3);
        }
        assertThat(read).as("some random payloads are well formed, so the success paths ran too").isPositive();
    }
}
