package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * What every codec in this package has in common: the bytes it is wrapped around, and the one
 * rule for accepting them. It exists so that rule lives in one place instead of being copied into
 * each codec: a range is accepted only if it lies inside the buffer's <em>limit</em> (see
 * {@link Bytes#fits}) and is at least the codec's minimum length, and a wrap that fails for any
 * reason, including a codec's own checks, leaves the instance detached rather than still pointing
 * at the previous packet.
 *
 * <p>Package-private on purpose: the codecs are the API, and {@link #buffer()}, {@link #offset()}
 * and {@link #length()} are public members of each of them (the accessors are deliberately not
 * {@code final}, so javac emits a public bridge in each codec and reflection from other packages
 * still sees them there). The fields are package-visible so the codecs' getters read them
 * directly; only {@link #attach} and {@link #detach} write them.
 */
abstract class Flyweight {
    ByteBuffer buffer;
    int offset;
    int length;

    Flyweight() {
    }

    /**
     * Points at {@code [offset, offset + length)} and returns true if that range lies inside the
     * buffer's limit and holds at least {@code minLength} bytes; otherwise detaches and returns
     * false. Never throws. A codec runs its own checks after a true return and calls
     * {@link #detach()} if they fail.
     */
    final boolean attach(ByteBuffer buffer, int offset, int length, int minLength) {
        if (!Bytes.fits(buffer, offset, length) || length < minLength) {
            detach();
            return false;
        }
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
        return true;
    }

    /** Forgets the wrapped bytes. A codec with state derived at wrap time overrides this and calls super. */
    void detach() {
        buffer = null;
        offset = 0;
        length = 0;
    }

    /** The wrapped buffer, or null when detached. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** Absolute index of the first wrapped byte. */
    public int offset() {
        return offset;
    }

    /**
     * Bytes available at wrap time (the {@code length} given to {@code wrap}); a header's own length
     * field may declare fewer, e.g. when a short frame carries link padding.
     */
    public int length() {
        return length;
    }
}
