package dev.vnet.wire.vsock;

import dev.vnet.wire.Bytes;

import java.nio.ByteBuffer;

/**
 * One frame of the socket offload session between a VM's virtual socket coprocessor and its host's
 * virtual socket device. The specification is {@code docs/vsock.md} ("Frames" and the op table); the
 * constants here are its numbers.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Version = 1  |      Op       |         Flags (all 0)         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Socket id                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Request id                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              Payload length (at most MAX_PAYLOAD)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Payload (Payload length bytes)                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * All integers are big-endian whatever {@link ByteBuffer#order()} says; the buffer's position and
 * limit are never touched. Socket and request ids are unsigned 32-bit values carried as their bit
 * pattern in an {@code int}: compare them with {@code ==}, never order them.
 *
 * <p>{@link #wrap} checks the header only, because that is all a session reader needs to find the
 * frame boundaries in its byte stream and to refuse a stream that is not vsock frames before any of
 * its payload arrives. Each op's payload is written by {@link FrameWriter} and checked when read by
 * {@link PayloadReader}. {@link FrameDecoder} cuts a byte stream into frames with this class.
 */
public final class VsockFrame {
    public static final int VERSION = 1;
    public static final int HEADER_LENGTH = 16;
    /** The largest {@link #OP_DATA} payload a sender cuts a stream into. */
    public static final int MAX_DATA_CHUNK = 65_536;
    /** A full data chunk plus room for a datagram's URI; a longer payload is a protocol violation. */
    public static final int MAX_PAYLOAD = MAX_DATA_CHUNK + 512;
    public static final int MAX_FRAME_LENGTH = HEADER_LENGTH + MAX_PAYLOAD;

    public static final int VERSION_OFFSET = 0;
    public static final int OP_OFFSET = 1;
    public static final int FLAGS_OFFSET = 2;
    public static final int SOCKET_ID_OFFSET = 4;
    public static final int REQUEST_ID_OFFSET = 8;
    public static final int PAYLOAD_LENGTH_OFFSET = 12;

    /** Version 1 defines no flag for any op, so every flag bit is reserved and must be 0. */
    public static final int DEFINED_FLAGS = 0;

    /** The socket id of frames about the session itself ({@link #OP_HELLO}, {@link #OP_RESOLVE}, {@link #OP_GOODBYE}). */
    public static final int SESSION_SOCKET_ID = 0;
    /** The request id of a frame that expects no reply (data, credit, events). */
    public static final int NO_REQUEST_ID = 0;
    /** The credit each side announces unless configured otherwise. */
    public static final int DEFAULT_INITIAL_CREDIT = 256 * 1024;

    public static final int OP_HELLO = 1;
    public static final int OP_REPLY = 2;
    public static final int OP_CREATE = 3;
    public static final int OP_CONNECT = 4;
    public static final int OP_BIND = 5;
    public static final int OP_LISTEN = 6;
    public static final int OP_ACCEPT = 7;
    public static final int OP_DATA = 8;
    public static final int OP_SENDTO = 9;
    public static final int OP_RECVFROM = 10;
    public static final int OP_SHUTDOWN = 11;
    public static final int OP_CLOSE = 12;
    public static final int OP_GETSOCKNAME = 13;
    public static final int OP_GETPEERNAME = 14;
    public static final int OP_SETSOCKOPT = 15;
    public static final int OP_GETSOCKOPT = 16;
    public static final int OP_POLL = 17;
    public static final int OP_CREDIT = 18;
    public static final int OP_RESOLVE = 19;
    public static final int OP_GOODBYE = 20;
    private static final int LAST_OP = OP_GOODBYE;
    private static final String[] OP_NAMES = {
        null, "HELLO", "REPLY", "CREATE", "CONNECT", "BIND", "LISTEN", "ACCEPT", "DATA", "SENDTO", "RECVFROM",
        "SHUTDOWN", "CLOSE", "GETSOCKNAME", "GETPEERNAME", "SETSOCKOPT", "GETSOCKOPT", "POLL", "CREDIT",
        "RESOLVE", "GOODBYE"};

    /** Replies and goodbyes carry Linux errno values so a guest library can hand them on unchanged. */
    public static final int STATUS_OK = 0;
    /** A name that does not resolve. */
    public static final int ENOENT = 2;
    /** An unknown socket id. */
    public static final int EBADF = 9;
    /** Out of host resources. */
    public static final int EAGAIN = 11;
    /** Denied by the VM's access list. */
    public static final int EACCES = 13;
    /** Invalid argument, or a request the socket's state does not allow. */
    public static final int EINVAL = 22;
    public static final int ENOPROTOOPT = 92;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EADDRINUSE = 98;
    public static final int ENETUNREACH = 101;
    public static final int ENOTCONN = 107;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;

    public static final int SOCKET_TYPE_STREAM = 1;
    public static final int SOCKET_TYPE_DATAGRAM = 2;
    /** Address families as {@link #OP_CREATE} and the {@link #OP_RESOLVE} reply carry them. */
    public static final int FAMILY_IPV4 = 4;
    public static final int FAMILY_IPV6 = 6;

    /** {@link #OP_SHUTDOWN}'s {@code how}. */
    public static final int SHUTDOWN_READ = 1;
    public static final int SHUTDOWN_WRITE = 2;
    public static final int SHUTDOWN_BOTH = 3;

    /** {@link #OP_POLL} event bits, Linux's {@code POLLIN}, {@code POLLOUT}, {@code POLLERR}, {@code POLLHUP}. */
    public static final int POLL_IN = 1;
    public static final int POLL_OUT = 4;
    public static final int POLL_ERR = 8;
    public static final int POLL_HUP = 16;

    /** Socket options are vnet's own numbers, which the host maps to its platform's. */
    public static final int OPTION_TCP_NODELAY = 1;
    public static final int OPTION_SO_KEEPALIVE = 2;
    public static final int OPTION_SO_RCVBUF = 3;
    public static final int OPTION_SO_SNDBUF = 4;
    /** Seconds, or {@link #LINGER_OFF}. */
    public static final int OPTION_SO_LINGER = 5;
    public static final int LINGER_OFF = -1;

    /** What {@link #wrap} found at the wrapped region. */
    public enum Outcome {
        /** A valid header and all of its payload: every getter works. */
        WHOLE_FRAME,
        /** Fewer than {@link #HEADER_LENGTH} bytes, and those present are valid; the frame is detached. */
        PARTIAL_HEADER,
        /** A valid header but not all of its payload yet; the header getters work, so {@link #frameLength()} says how much to wait for. */
        PARTIAL_PAYLOAD,
        /** The bytes are not a frame of this protocol; {@link #malformedReason()} says why, and the frame is detached. */
        MALFORMED
    }

    private enum Defect { NONE, OUTSIDE_BUFFER, VERSION, OP, FLAGS, PAYLOAD_LENGTH }

    private ByteBuffer buffer;
    private int offset;
    private int length;
    private Defect defect = Defect.NONE;
    private long defectValue;
    private int defectOp;

    /**
     * Points at the bytes of a stream from {@code offset} on, of which {@code available} have arrived,
     * and checks the header: version, a known op, reserved flag bits 0, payload length at most
     * {@link #MAX_PAYLOAD}. Each field is checked as soon as its bytes are there, so a stream that is
     * not vsock frames is refused at its first bad byte rather than after a header's worth. Never
     * throws; a region outside the buffer's limit is {@link Outcome#MALFORMED}.
     */
    public Outcome wrap(ByteBuffer buffer, int offset, int available) {
        detach();
        if (!Bytes.fits(buffer, offset, available)) {
            return malformed(Defect.OUTSIDE_BUFFER, 0, 0);
        }
        if (available > VERSION_OFFSET) {
            int version = Bytes.u8(buffer, offset + VERSION_OFFSET);
            if (version != VERSION) {
                return malformed(Defect.VERSION, version, 0);
            }
        }
        if (available > OP_OFFSET) {
            int op = Bytes.u8(buffer, offset + OP_OFFSET);
            if (!isKnownOp(op)) {
                return malformed(Defect.OP, op, op);
            }
            if (available >= FLAGS_OFFSET + 2) {
                int flags = Bytes.u16(buffer, offset + FLAGS_OFFSET);
                if ((flags & ~DEFINED_FLAGS) != 0) {
                    return malformed(Defect.FLAGS, flags, op);
                }
            }
        }
        if (available < HEADER_LENGTH) {
            return Outcome.PARTIAL_HEADER;
        }
        long payloadLength = Bytes.u32(buffer, offset + PAYLOAD_LENGTH_OFFSET);
        if (payloadLength > MAX_PAYLOAD) {
            return malformed(Defect.PAYLOAD_LENGTH, payloadLength, Bytes.u8(buffer, offset + OP_OFFSET));
        }
        this.buffer = buffer;
        this.offset = offset;
        this.length = available;
        return available - HEADER_LENGTH >= payloadLength ? Outcome.WHOLE_FRAME : Outcome.PARTIAL_PAYLOAD;
    }

    private Outcome malformed(Defect defect, long value, int op) {
        this.defect = defect;
        defectValue = value;
        defectOp = op;
        return Outcome.MALFORMED;
    }

    private void detach() {
        buffer = null;
        offset = 0;
        length = 0;
        defect = Defect.NONE;
    }

    /** Narrows {@link #length()} to the frame itself once the decoder hands it on, so it matches the limit the handler sees. */
    void narrowToFrame() {
        length = frameLength();
    }

    /** Why the last {@link #wrap} returned {@link Outcome#MALFORMED}, or null if it did not; built only when asked. */
    public String malformedReason() {
        return switch (defect) {
            case NONE -> null;
            case OUTSIDE_BUFFER -> "the frame's region lies outside the buffer";
            case VERSION -> "version " + defectValue + ", expected " + VERSION;
            case OP -> "unknown op " + defectValue;
            case FLAGS -> String.format("reserved flag bits 0x%04x set on %s (version %d defines no flags)",
                defectValue, opName(defectOp), VERSION);
            case PAYLOAD_LENGTH -> "payload length " + defectValue + " of " + opName(defectOp)
                + " exceeds the maximum " + MAX_PAYLOAD;
        };
    }

    /** The wrapped buffer, or null when detached. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** Absolute index of the frame's first byte. */
    public int offset() {
        return offset;
    }

    /** Bytes available at wrap time, which may be more or fewer than {@link #frameLength()}. */
    public int length() {
        return length;
    }

    public int op() {
        return Bytes.u8(buffer, offset + OP_OFFSET);
    }

    public int flags() {
        return Bytes.u16(buffer, offset + FLAGS_OFFSET);
    }

    public int socketId() {
        return Bytes.i32(buffer, offset + SOCKET_ID_OFFSET);
    }

    public int requestId() {
        return Bytes.i32(buffer, offset + REQUEST_ID_OFFSET);
    }

    /** At most {@link #MAX_PAYLOAD}, so an {@code int}. */
    public int payloadLength() {
        return Bytes.i32(buffer, offset + PAYLOAD_LENGTH_OFFSET);
    }

    /** Absolute index of the payload's first byte. */
    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    public int frameLength() {
        return HEADER_LENGTH + payloadLength();
    }

    public static boolean isKnownOp(int op) {
        return op >= OP_HELLO && op <= LAST_OP;
    }

    /** The op's name as docs/vsock.md spells it, or {@code "op N"} for an unknown one. */
    public static String opName(int op) {
        return isKnownOp(op) ? OP_NAMES[op] : "op " + op;
    }

    /**
     * Writes a 16-byte header at {@code offset} and returns the index where the payload goes. Refuses
     * (IllegalArgumentException) what a receiver would take for a malformed header, so a bug here
     * fails at the sender rather than closing the peer's session.
     */
    public static int writeHeader(ByteBuffer buffer, int offset, int op, int flags, int socketId, int requestId,
                                  int payloadLength) {
        if (!isKnownOp(op)) {
            throw new IllegalArgumentException("unknown op " + op);
        }
        if ((flags & ~DEFINED_FLAGS) != 0) {
            throw new IllegalArgumentException(String.format("flags 0x%x are not defined for %s", flags, opName(op)));
        }
        if (payloadLength < 0 || payloadLength > MAX_PAYLOAD) {
            throw new IllegalArgumentException(opName(op) + " payload length " + payloadLength + " is outside [0, "
                + MAX_PAYLOAD + "]");
        }
        Bytes.put8(buffer, offset + VERSION_OFFSET, VERSION);
        Bytes.put8(buffer, offset + OP_OFFSET, op);
        Bytes.put16(buffer, offset + FLAGS_OFFSET, flags);
        Bytes.put32(buffer, offset + SOCKET_ID_OFFSET, socketId);
        Bytes.put32(buffer, offset + REQUEST_ID_OFFSET, requestId);
        Bytes.put32(buffer, offset + PAYLOAD_LENGTH_OFFSET, payloadLength);
        return offset + HEADER_LENGTH;
    }
}
