package dev.vnet.wire.vsock;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Cuts the session's byte stream, arriving in pieces of any size, into frames for a {@link FrameHandler}.
 *
 * <p>A frame that lies whole inside one input is handed over in place, without a copy or an
 * allocation. Only a frame split across inputs is copied, into one accumulation buffer allocated
 * up front at the largest frame's size, so a peer cannot make the decoder grow; the copy stops at
 * that frame's end, so the frames after it in the same input are again handed over in place.
 *
 * <p>A header error is reported once through {@link FrameHandler#malformed}, and from then on every
 * input is discarded: after a bad header nothing says where the next frame starts. No input makes
 * {@link #feed} throw. Not thread-safe: one decoder per session reader, fed from one thread.
 */
public final class FrameDecoder {
    private final FrameHandler handler;
    private final VsockFrame frame = new VsockFrame();
    private final ByteBuffer accumulation = ByteBuffer.allocate(VsockFrame.MAX_FRAME_LENGTH);
    /** Bytes of a split frame held in {@link #accumulation}, from index 0. */
    private int accumulated;
    private boolean failed;

    public FrameDecoder(FrameHandler handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Consumes the input from its position to its limit: hands every frame it completes to the
     * handler and keeps a trailing partial frame for the next call. On return the position equals
     * the limit, and the limit is unchanged. The handler is called on this thread, before this
     * returns; it must not feed this decoder. If the handler throws, the exception propagates and
     * the decoder discards all further input, since where the stream stood is lost.
     */
    public void feed(ByteBuffer input) {
        int end = input.limit();
        int index = input.position();
        boolean completed = false;
        try {
            if (!failed && accumulated > 0) {
                index = continueSplitFrame(input, index, end);
            }
            while (!failed && index < end) {
                switch (frame.wrap(input, index, end - index)) {
                    case WHOLE_FRAME -> {
                        int frameEnd = index + frame.frameLength();
                        deliver(input, frameEnd, end);
                        index = frameEnd;
                    }
                    case PARTIAL_HEADER, PARTIAL_PAYLOAD -> {
                        startSplitFrame(input, index, end);
                        index = end;
                    }
                    case MALFORMED -> fail();
                }
            }
            completed = true;
        } finally {
            input.limit(end);
            input.position(end);
            if (!completed) {
                failed = true;
                accumulated = 0;
            }
        }
    }

    /** True once the stream was found malformed (or a handler threw): all input is being discarded. */
    public boolean failed() {
        return failed;
    }

    /** Bytes of an incomplete frame held for the next input; non-zero at the end of a stream means it was cut mid-frame. */
    public int pendingBytes() {
        return accumulated;
    }

    private void startSplitFrame(ByteBuffer input, int index, int end) {
        // A partial frame is shorter than the largest frame, so it always fits.
        accumulated = end - index;
        accumulation.put(0, input, index, accumulated);
    }

    private int continueSplitFrame(ByteBuffer input, int index, int end) {
        // The header first: until it is whole the frame's length is unknown, and checking what has
        // arrived after each piece refuses a bad stream as early as the unsplit path does.
        if (accumulated < VsockFrame.HEADER_LENGTH) {
            index = topUp(input, index, end, VsockFrame.HEADER_LENGTH);
        }
        VsockFrame.Outcome outcome = frame.wrap(accumulation, 0, accumulated);
        if (outcome == VsockFrame.Outcome.PARTIAL_PAYLOAD) {
            index = topUp(input, index, end, frame.frameLength());
            outcome = frame.wrap(accumulation, 0, accumulated);
        }
        switch (outcome) {
            case WHOLE_FRAME -> {
                accumulated = 0;
                deliver(accumulation, frame.frameLength(), accumulation.capacity());
            }
            case MALFORMED -> fail();
            case PARTIAL_HEADER, PARTIAL_PAYLOAD -> {
                // The input ran out; the rest comes with the next one.
            }
        }
        return index;
    }

    /** Copies input bytes until {@link #accumulation} holds {@code target} bytes or the input runs out. */
    private int topUp(ByteBuffer input, int index, int end, int target) {
        int count = Math.min(target - accumulated, end - index);
        accumulation.put(accumulated, input, index, count);
        accumulated += count;
        return index + count;
    }

    private void deliver(ByteBuffer buffer, int frameEnd, int restoredLimit) {
        frame.narrowToFrame();
        // Limit before position: the old position may lie past the new limit.
        buffer.limit(frameEnd);
        buffer.position(frame.payloadOffset());
        try {
            handler.frame(frame, buffer);
        } finally {
            buffer.limit(restoredLimit);
        }
    }

    private void fail() {
        failed = true;
        accumulated = 0;
        handler.malformed(frame.malformedReason());
    }
}
