package dev.vnet.wire.vsock;

import static dev.vnet.wire.vsock.VsockFrame.HEADER_LENGTH;
import static dev.vnet.wire.vsock.VsockFrame.MAX_PAYLOAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class FrameDecoderTest {
    /** A frame as sent: what the decoder must hand back, byte for byte. */
    record Sent(int op, int socketId, int requestId, byte[] payload) {
        int length() {
            return HEADER_LENGTH + payload.length;
        }
    }

    /** Records what the decoder hands over and checks the handler contract on every call. */
    static final class Recorder implements FrameHandler {
        final List<Sent> frames = new ArrayList<>();
        final List<ByteBuffer> payloadBuffers = new ArrayList<>();
        final List<Boolean> inPlace = new ArrayList<>();
        final List<String> malformed = new ArrayList<>();
        final Set<ByteBuffer> accumulationBuffers = Collections.newSetFromMap(new IdentityHashMap<>());
        /** The input being fed, to tell frames handed over in place from copied ones. */
        ByteBuffer input;

        @Override
        public void frame(VsockFrame frame, ByteBuffer payload) {
            assertThat(malformed).as("no frame after the stream was found malformed").isEmpty();
            assertThat(frame.buffer()).isSameAs(payload);
            assertThat(VsockFrame.isKnownOp(frame.op())).isTrue();
            assertThat(frame.flags()).isZero();
            assertThat(frame.payloadLength()).isBetween(0, MAX_PAYLOAD);
            assertThat(frame.length()).isEqualTo(frame.frameLength());
            assertThat(payload.position()).as("position at the payload").isEqualTo(frame.payloadOffset());
            assertThat(payload.limit()).as("limit at the frame's end").isEqualTo(frame.payloadOffset() + frame.payloadLength());
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            frames.add(new Sent(frame.op(), frame.socketId(), frame.requestId(), bytes));
            payloadBuffers.add(payload);
            inPlace.add(payload == input);
            if (payload != input) {
                accumulationBuffers.add(payload);
            }
            // A careless handler: the decoder must restore position and limit whatever we do here.
            payload.limit(0);
        }

        @Override
        public void malformed(String reason) {
            malformed.add(reason);
        }

        long deliveredBytes() {
            return frames.stream().mapToLong(Sent::length).sum();
        }
    }

    private static Sent randomFrame(Random random, int payloadLength) {
        byte[] payload = new byte[payloadLength];
        random.nextBytes(payload);
        int op = VsockFrame.OP_HELLO + random.nextInt(VsockFrame.OP_GOODBYE);
        return new Sent(op, random.nextInt(), random.nextInt(), payload);
    }

    /** Mostly small payloads, as control traffic is, some data-sized ones, and now and then the largest. */
    private static int mixedPayloadLength(Random random) {
        int pick = random.nextInt(100);
        if (pick < 60) {
            return random.nextInt(33);
        } else if (pick < 90) {
            return random.nextInt(2_000);
        } else if (pick < 99) {
            return random.nextInt(20_000);
        }
        return random.nextBoolean() ? MAX_PAYLOAD : random.nextInt(MAX_PAYLOAD + 1);
    }

    static byte[] encode(List<Sent> frames) {
        ByteBuffer stream = ByteBuffer.allocate(frames.stream().mapToInt(Sent::length).sum());
        int index = 0;
        for (Sent frame : frames) {
            index = VsockFrame.writeHeader(stream, index, frame.op(), 0, frame.socketId(), frame.requestId(),
                frame.payload().length);
            stream.put(index, frame.payload());
            index += frame.payload().length;
        }
        return stream.array();
    }

    /**
     * Feeds {@code stream[cuts[i], cuts[i + 1])} as separate inputs, each in its own buffer of the next
     * shape with junk around it, and checks each input is consumed whole with its limit untouched.
     */
    private static Recorder feed(FrameDecoder decoder, Recorder recorder, byte[] stream, int[] cuts, int lead) {
        Shape[] shapes = Shape.values();
        for (int i = 0; i + 1 < cuts.length; i++) {
            ByteBuffer input = shapes[i % shapes.length].holding(stream, cuts[i], cuts[i + 1], lead);
            recorder.input = input;
            decoder.feed(input);
            assertThat(input.limit()).as("limit restored").isEqualTo(lead + cuts[i + 1] - cuts[i]);
            assertThat(input.position()).as("input consumed").isEqualTo(input.limit());
        }
        return recorder;
    }

    private static void assertDecoded(List<Sent> sent, int[] cuts, FrameDecoder decoder, Recorder recorder) {
        assertThat(recorder.malformed).isEmpty();
        assertThat(recorder.frames).hasSize(sent.size());
        int start = 0;
        for (int i = 0; i < sent.size(); i++) {
            Sent expected = sent.get(i);
            Sent actual = recorder.frames.get(i);
            assertThat(actual.op()).as("frame %d op", i).isEqualTo(expected.op());
            assertThat(actual.socketId()).as("frame %d socket id", i).isEqualTo(expected.socketId());
            assertThat(actual.requestId()).as("frame %d request id", i).isEqualTo(expected.requestId());
            assertThat(actual.payload()).as("frame %d payload", i).isEqualTo(expected.payload());
            int end = start + expected.length();
            assertThat(recorder.inPlace.get(i)).as("frame %d [%d, %d) handed over in place exactly when no cut splits it", i, start, end)
                .isEqualTo(!splits(cuts, start, end));
            start = end;
        }
        assertThat(recorder.accumulationBuffers).as("one preallocated accumulation buffer").hasSizeLessThanOrEqualTo(1);
        assertThat(decoder.pendingBytes()).isZero();
        assertThat(decoder.failed()).isFalse();
    }

    private static boolean splits(int[] cuts, int start, int end) {
        for (int cut : cuts) {
            if (cut > start && cut < end) {
                return true;
            }
        }
        return false;
    }

    private static void decodeAndCheck(List<Sent> sent, byte[] stream, int[] cuts) {
        Recorder recorder = new Recorder();
        FrameDecoder decoder = new FrameDecoder(recorder);
        feed(decoder, recorder, stream, cuts, cuts.length % 5);
        assertDecoded(sent, cuts, decoder, recorder);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void aSmallStreamSplitAtEveryBoundaryAndEveryPairOfBoundaries(long seed) {
        Random random = new Random(seed);
        List<Sent> sent = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            sent.add(randomFrame(random, random.nextInt(9)));
        }
        byte[] stream = encode(sent);
        int n = stream.length;
        for (int cut = 0; cut <= n; cut++) {
            decodeAndCheck(sent, stream, new int[] {0, cut, n});
        }
        for (int first = 1; first < n; first++) {
            for (int second = first + 1; second < n; second++) {
                decodeAndCheck(sent, stream, new int[] {0, first, second, n});
            }
        }
        int[] everyByte = new int[n + 1];
        for (int i = 0; i <= n; i++) {
            everyByte[i] = i;
        }
        decodeAndCheck(sent, stream, everyByte);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 7, 42, 1071, 0xC0FFEE})
    void aLargeStreamSplitAtSeededRandomBoundaries(long seed) {
        Random random = new Random(seed);
        List<Sent> sent = new ArrayList<>();
        for (int i = 0; i < 1_500; i++) {
            sent.add(randomFrame(random, mixedPayloadLength(random)));
        }
        byte[] stream = encode(sent);
        List<Integer> cuts = new ArrayList<>(List.of(0));
        for (int at = 0; at < stream.length; ) {
            int pick = random.nextInt(10);
            int size = pick < 4 ? 1 + random.nextInt(16)
                : pick < 7 ? 1 + random.nextInt(2_000)
                : pick < 9 ? 1 + random.nextInt(70_000)
                : 1 + random.nextInt(300_000);
            at = Math.min(stream.length, at + size);
            cuts.add(at);
        }
        decodeAndCheck(sent, stream, cuts.stream().mapToInt(Integer::intValue).toArray());
    }

    @ParameterizedTest
    @ValueSource(longs = {3, 99})
    void aStreamInTinyPieces(long seed) {
        Random random = new Random(seed);
        List<Sent> sent = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            sent.add(randomFrame(random, random.nextInt(10) == 0 ? random.nextInt(5_000) : random.nextInt(40)));
        }
        byte[] stream = encode(sent);
        List<Integer> cuts = new ArrayList<>(List.of(0));
        for (int at = 0; at < stream.length; ) {
            at = Math.min(stream.length, at + random.nextInt(65));
            cuts.add(at);
        }
        decodeAndCheck(sent, stream, cuts.stream().mapToInt(Integer::intValue).toArray());
    }

    @Test
    void framesWithinOneInputAreHandedOverInPlaceAndOnlySplitOnesAreCopied() {
        Random random = new Random(5);
        List<Sent> sent = List.of(randomFrame(random, 10), randomFrame(random, 300), randomFrame(random, 0),
            randomFrame(random, 40), randomFrame(random, 7));
        byte[] stream = encode(sent);

        Recorder whole = new Recorder();
        ByteBuffer input = ByteBuffer.wrap(stream);
        whole.input = input;
        new FrameDecoder(whole).feed(input);
        assertThat(whole.payloadBuffers).hasSize(5).allSatisfy(buffer -> assertThat(buffer).isSameAs(input));

        // Cut inside frame 1 and inside frame 3: frames 1 and 3 are copied, the others are not.
        int first = sent.get(0).length() + 100;
        int second = first + (sent.get(1).length() - 100) + sent.get(2).length() + 20;
        Recorder split = new Recorder();
        FrameDecoder decoder = new FrameDecoder(split);
        feed(decoder, split, stream, new int[] {0, first, second, stream.length}, 0);
        assertThat(split.inPlace).containsExactly(true, false, true, false, true);
        assertThat(split.payloadBuffers.get(1)).as("the accumulation buffer, preallocated and reused")
            .isSameAs(split.payloadBuffers.get(3));
        assertThat(split.payloadBuffers.get(1).capacity()).isEqualTo(HEADER_LENGTH + MAX_PAYLOAD);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void aFrameOfExactlyTheMaximumPayloadPassesWholeOrSplit(Shape shape) {
        Random random = new Random(shape.ordinal());
        List<Sent> sent = List.of(randomFrame(random, MAX_PAYLOAD), randomFrame(random, 3), randomFrame(random, MAX_PAYLOAD));
        byte[] stream = encode(sent);
        decodeAndCheck(sent, stream, new int[] {0, stream.length});
        decodeAndCheck(sent, stream, new int[] {0, 7, 40_000, HEADER_LENGTH + MAX_PAYLOAD + 1, stream.length - 1, stream.length});
        decodeAndCheck(sent, stream, new int[] {0, HEADER_LENGTH, HEADER_LENGTH + MAX_PAYLOAD, stream.length});
    }

    @Test
    void aPayloadOneByteOverTheMaximumIsMalformedFromItsHeader() {
        Random random = new Random(8);
        Sent before = randomFrame(random, 5);
        Sent tooLong = new Sent(VsockFrame.OP_DATA, 3, 0, new byte[MAX_PAYLOAD + 1]);
        byte[] stream = new byte[before.length() + tooLong.length() + HEADER_LENGTH];
        System.arraycopy(encode(List.of(before)), 0, stream, 0, before.length());
        ByteBuffer.wrap(stream).put(before.length(), new byte[] {1, VsockFrame.OP_DATA, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0})
            .putInt(before.length() + VsockFrame.PAYLOAD_LENGTH_OFFSET, MAX_PAYLOAD + 1);
        System.arraycopy(encode(List.of(randomFrame(random, 0))), 0, stream, stream.length - HEADER_LENGTH, HEADER_LENGTH);

        for (int[] cuts : List.of(new int[] {0, stream.length}, new int[] {0, before.length() + 14, stream.length},
            new int[] {0, before.length() + HEADER_LENGTH, 30_000, stream.length})) {
            Recorder recorder = new Recorder();
            FrameDecoder decoder = new FrameDecoder(recorder);
            feed(decoder, recorder, stream, cuts, 1);
            assertThat(recorder.frames).hasSize(1);
            assertThat(recorder.malformed).containsExactly("payload length 66049 of DATA exceeds the maximum 66048");
            assertThat(decoder.failed()).isTrue();
        }
    }

    /** (index in the header, width 1 or 4, value written there, the reason expected). */
    static Stream<Arguments> headerErrors() {
        return Stream.of(
            Arguments.of(0, 1, 0, "version 0, expected 1"),
            Arguments.of(0, 1, 2, "version 2, expected 1"),
            Arguments.of(1, 1, 0, "unknown op 0"),
            Arguments.of(1, 1, 21, "unknown op 21"),
            Arguments.of(1, 1, 255, "unknown op 255"),
            Arguments.of(3, 1, 0x01, "reserved flag bits 0x0001 set on CONNECT (version 1 defines no flags)"),
            Arguments.of(2, 1, 0x80, "reserved flag bits 0x8000 set on CONNECT (version 1 defines no flags)"),
            Arguments.of(12, 1, 0x01, "payload length 16777226 of CONNECT exceeds the maximum 66048"),
            Arguments.of(12, 4, MAX_PAYLOAD + 1, "payload length 66049 of CONNECT exceeds the maximum 66048"),
            Arguments.of(12, 4, -1, "payload length 4294967295 of CONNECT exceeds the maximum 66048"));
    }

    @ParameterizedTest
    @MethodSource("headerErrors")
    void aHeaderErrorIsReportedOnceWithItsReasonAndThenNothing(int index, int width, int value, String reason) {
        Random random = new Random(index * 31L + value);
        Sent bad = new Sent(VsockFrame.OP_CONNECT, 1, 2, new byte[10]);
        List<Sent> sent = List.of(randomFrame(random, 4), bad, randomFrame(random, 6));
        byte[] stream = encode(sent);
        if (width == 1) {
            stream[sent.get(0).length() + index] = (byte) value;
        } else {
            ByteBuffer.wrap(stream).putInt(sent.get(0).length() + index, value);
        }
        byte[] moreFrames = encode(List.of(randomFrame(random, 3), randomFrame(random, 0)));

        List<int[]> cutsToTry = new ArrayList<>();
        for (int cut = 0; cut <= stream.length; cut++) {
            cutsToTry.add(new int[] {0, cut, stream.length});
        }
        int[] everyByte = new int[stream.length + 1];
        for (int i = 0; i <= stream.length; i++) {
            everyByte[i] = i;
        }
        cutsToTry.add(everyByte);
        for (int[] cuts : cutsToTry) {
            Recorder recorder = new Recorder();
            FrameDecoder decoder = new FrameDecoder(recorder);
            feed(decoder, recorder, stream, cuts, 2);
            feed(decoder, recorder, moreFrames, new int[] {0, moreFrames.length}, 0);
            feed(decoder, recorder, moreFrames, new int[] {0, 5, moreFrames.length}, 0);
            assertThat(recorder.frames).as("only the frame before the bad one").hasSize(1);
            assertThat(recorder.frames.get(0).payload()).isEqualTo(sent.get(0).payload());
            assertThat(recorder.malformed).containsExactly(reason);
            assertThat(decoder.failed()).isTrue();
            assertThat(decoder.pendingBytes()).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 22, 33})
    void tenThousandRandomGarbageInputsNeverThrow(long seed) {
        Random random = new Random(seed);
        int failedInputs = 0;
        int frames = 0;
        for (int i = 0; i < 10_000; i++) {
            byte[] input = garbage(random);
            List<Integer> cuts = new ArrayList<>(List.of(0));
            for (int at = 0; at < input.length; ) {
                at = Math.min(input.length, at + random.nextInt(random.nextBoolean() ? 8 : 200));
                cuts.add(at);
            }
            cuts.add(input.length);
            Recorder recorder = new Recorder();
            FrameDecoder decoder = new FrameDecoder(recorder);
            feed(decoder, recorder, input, cuts.stream().mapToInt(Integer::intValue).toArray(), random.nextInt(4));

            assertThat(recorder.malformed).hasSizeLessThanOrEqualTo(1);
            if (recorder.malformed.isEmpty()) {
                assertThat(recorder.deliveredBytes() + decoder.pendingBytes()).as("every byte is a frame or pending")
                    .isEqualTo(input.length);
            } else {
                failedInputs++;
                assertThat(recorder.deliveredBytes()).isLessThan(input.length);
                assertThat(decoder.pendingBytes()).isZero();
            }
            frames += recorder.frames.size();
        }
        assertThat(failedInputs).as("garbage was refused").isGreaterThan(1_000);
        assertThat(frames).as("and frames before or between the damage still came through").isGreaterThan(1_000);
    }

    /** Random bytes, damaged or truncated streams, and plausible headers with random fields. */
    private static byte[] garbage(Random random) {
        switch (random.nextInt(4)) {
            case 0 -> {
                byte[] noise = new byte[random.nextInt(257)];
                random.nextBytes(noise);
                return noise;
            }
            case 1 -> {
                byte[] stream = smallStream(random);
                for (int m = 1 + random.nextInt(3); m > 0; m--) {
                    int at = random.nextInt(stream.length);
                    stream[at] = random.nextBoolean() ? (byte) random.nextInt() : (byte) (stream[at] ^ 1 << random.nextInt(8));
                }
                return stream;
            }
            case 2 -> {
                byte[] stream = smallStream(random);
                byte[] noise = new byte[random.nextInt(64)];
                random.nextBytes(noise);
                byte[] input = new byte[random.nextInt(stream.length + 1) + noise.length];
                System.arraycopy(stream, 0, input, 0, input.length - noise.length);
                System.arraycopy(noise, 0, input, input.length - noise.length, noise.length);
                return input;
            }
            default -> {
                byte[] header = new byte[HEADER_LENGTH + random.nextInt(100)];
                random.nextBytes(header);
                header[0] = 1;
                header[1] = (byte) random.nextInt(24);
                if (random.nextBoolean()) {
                    header[2] = 0;
                    header[3] = 0;
                }
                header[12] = 0;
                if (random.nextBoolean()) {
                    header[13] = 0;
                    header[14] = 0;
                }
                return header;
            }
        }
    }

    private static byte[] smallStream(Random random) {
        List<Sent> frames = new ArrayList<>();
        for (int f = 1 + random.nextInt(4); f > 0; f--) {
            frames.add(randomFrame(random, random.nextInt(24)));
        }
        return encode(frames);
    }

    @Test
    void aStreamCutMidFrameLeavesThePartialFramePending() {
        byte[] stream = encode(List.of(randomFrame(new Random(1), 30)));
        Recorder recorder = new Recorder();
        FrameDecoder decoder = new FrameDecoder(recorder);
        feed(decoder, recorder, stream, new int[] {0, 9}, 0);
        assertThat(decoder.pendingBytes()).isEqualTo(9);
        feed(decoder, recorder, stream, new int[] {9, 40}, 0);
        assertThat(decoder.pendingBytes()).isEqualTo(40);
        assertThat(recorder.frames).isEmpty();
        feed(decoder, recorder, stream, new int[] {40, 40, stream.length}, 0);
        assertThat(recorder.frames).hasSize(1);
        assertThat(decoder.pendingBytes()).isZero();
    }

    @Test
    void aHandlerThatThrowsLeavesTheDecoderDiscardingAndTheInputRestored() {
        byte[] stream = encode(List.of(randomFrame(new Random(2), 3), randomFrame(new Random(3), 3)));
        int[] calls = {0};
        FrameDecoder decoder = new FrameDecoder(new FrameHandler() {
            @Override
            public void frame(VsockFrame frame, ByteBuffer payload) {
                calls[0]++;
                throw new IllegalStateException("handler bug");
            }

            @Override
            public void malformed(String reason) {
                throw new AssertionError(reason);
            }
        });
        ByteBuffer input = ByteBuffer.wrap(stream);
        assertThatThrownBy(() -> decoder.feed(input)).hasMessage("handler bug");
        assertThat(input.limit()).isEqualTo(stream.length);
        assertThat(input.position()).isEqualTo(stream.length);
        assertThat(decoder.failed()).isTrue();
        decoder.feed(ByteBuffer.wrap(stream));
        assertThat(calls[0]).isEqualTo(1);
    }
}
