package dev.vnet.wire.vsock;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The per-frame paths of a session (decoding, and writing DATA, CREDIT and SENDTO) allocate nothing. */
class VsockAllocationTest {
    private static final int FRAMES_PER_INPUT = 64;
    private static final int ROUNDS = 2_000;

    private final com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Sums what a session reader would look at, so nothing is optimized away. */
    private static final class Summing implements FrameHandler {
        long sum;

        @Override
        public void frame(VsockFrame frame, ByteBuffer payload) {
            sum += frame.op() + frame.socketId() + frame.requestId() + payload.remaining();
            if (frame.op() == VsockFrame.OP_CREDIT) {
                sum += PayloadReader.credit(payload, frame.payloadOffset(), frame.payloadLength());
            } else if (payload.hasRemaining()) {
                sum += payload.get(payload.position());
            }
        }

        @Override
        public void malformed(String reason) {
            throw new AssertionError(reason);
        }
    }

    private static ByteBuffer dataAndCreditFrames() {
        ByteBuffer stream = ByteBuffer.allocateDirect(FRAMES_PER_INPUT * (VsockFrame.HEADER_LENGTH + 100));
        byte[] chunk = new byte[100];
        int index = 0;
        for (int i = 0; i < FRAMES_PER_INPUT; i++) {
            index = i % 4 == 0 ? FrameWriter.credit(stream, index, 2 * i + 1, 100)
                : FrameWriter.data(stream, index, 2 * i + 1, chunk, 0, 1 + i);
        }
        return stream.limit(index);
    }

    @Test
    void decodingFramesWholeOrSplitAllocatesNothing() {
        Summing handler = new Summing();
        FrameDecoder decoder = new FrameDecoder(handler);
        ByteBuffer stream = dataAndCreditFrames();
        int end = stream.limit();

        Runnable whole = () -> stream.limit(end).position(0);
        Runnable feedWhole = () -> {
            whole.run();
            decoder.feed(stream);
        };
        // Pieces of 37 bytes: most frames are split, and go through the accumulation buffer.
        Runnable feedSplit = () -> {
            for (int at = 0; at < end; at += 37) {
                stream.limit(Math.min(end, at + 37)).position(at);
                decoder.feed(stream);
            }
        };
        for (Runnable feed : new Runnable[] {feedWhole, feedSplit}) {
            for (int i = 0; i < ROUNDS; i++) {
                feed.run();
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < ROUNDS; i++) {
                feed.run();
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            // Any per-frame allocation would be at least 16 bytes for each of 128,000 frames.
            assertThat(allocated).isLessThan((long) ROUNDS * FRAMES_PER_INPUT);
        }
        assertThat(decoder.failed()).isFalse();
        assertThat(decoder.pendingBytes()).isZero();
        assertThat(handler.sum).isNotZero();
    }

    @Test
    void writingDataCreditAndSendToAllocatesNothing() {
        ByteBuffer out = ByteBuffer.allocateDirect(VsockFrame.MAX_FRAME_LENGTH);
        ByteBuffer source = ByteBuffer.allocateDirect(4096);
        byte[] array = new byte[4096];
        String uri = "udp://10.0.0.1:53";
        long sink = 0;
        for (int round = 0; round < 2; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100_000; i++) {
                int index = FrameWriter.data(out, 0, 7, source, i & 1023, 1500);
                index = FrameWriter.data(out, index, 7, array, i & 1023, 1500);
                int creditEnd = FrameWriter.credit(out, index, 7, i);
                index = FrameWriter.sendTo(out, creditEnd, 9, 0, uri, source, 0, 512);
                sink += index + PayloadReader.credit(out, creditEnd - 4, 4);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            if (round == 1) {
                assertThat(allocated).isLessThan(100_000);
            }
        }
        assertThat(sink).isNotZero();
    }
}
