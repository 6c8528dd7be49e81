package dev.vnet.wire.vsock;

import java.nio.ByteBuffer;

/** What a {@link FrameDecoder} delivers to: each whole frame in stream order, or the one reason the stream is not frames. */
public interface FrameHandler {
    /**
     * One whole frame with a valid header; its payload is not checked yet (see {@link PayloadReader}).
     * Both arguments are valid only during this call, because the decoder reuses the flyweight and the
     * bytes may live in its accumulation buffer: copy what must outlive it.
     *
     * @param frame   wrapped on the frame's header, in the same buffer as {@code payload}
     * @param payload the buffer holding the frame: the caller's input buffer itself when the frame
     *                arrived in one piece, the decoder's accumulation buffer when it was split across
     *                inputs. For the call its position is {@link VsockFrame#payloadOffset()} and its
     *                limit the frame's end, so relative reads and channel writes see exactly the
     *                payload; absolute reads may use the frame's offsets. The decoder restores the
     *                position and limit afterwards, so consuming the payload with relative reads is
     *                fine (the frame's getters read this buffer too: keep the limit at the frame's end
     *                while using them).
     */
    void frame(VsockFrame frame, ByteBuffer payload);

    /**
     * The stream broke the header rules (version, op, reserved flags, payload length), so frame
     * boundaries can no longer be trusted. Called at most once; the decoder then discards everything,
     * and the session should be closed.
     */
    void malformed(String reason);
}
