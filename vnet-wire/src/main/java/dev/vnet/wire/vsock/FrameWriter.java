package dev.vnet.wire.vsock;

import dev.vnet.wire.Bytes;

import static dev.vnet.wire.vsock.VsockFrame.*;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Writes whole frames, header and payload, one method per op of docs/vsock.md's table. Each writes at
 * the absolute index {@code offset} (the buffer's position and limit are not touched) and returns the
 * index just past the frame, where the next one goes. A reply writer writes a {@link VsockFrame#OP_REPLY}
 * frame with status {@link VsockFrame#STATUS_OK} followed by that op's reply data; {@link #reply} writes
 * a reply with no data, ok or an errno.
 *
 * <p>Arguments are checked before anything is written: a value that does not fit its field, a
 * {@code str} longer than its 16-bit length can say, or a payload over {@link VsockFrame#MAX_PAYLOAD}
 * is an IllegalArgumentException, so a sender's bug never reaches the peer as a malformed frame. A
 * buffer too small for the frame is the buffer's IndexOutOfBoundsException. Strings are encoded
 * straight into the buffer, so no writer allocates, and the hot ones, {@link #data} and
 * {@link #credit}, do nothing but write the header and copy.
 */
public final class FrameWriter {
    private static final int U16_MAX = 0xFFFF;
    private static final long U32_MAX = 0xFFFF_FFFFL;
    private static final int STATUS_LENGTH = 4;

    private FrameWriter() {
    }

    /** The guest's first frame. */
    public static int hello(ByteBuffer buffer, int offset, int requestId, int version, long maxPayload,
                            String guestName) {
        checkU16(version, "version");
        checkU32(maxPayload, "max payload");
        int payload = 2 + 4 + strLength(guestName, "guest name");
        int index = writeHeader(buffer, offset, OP_HELLO, 0, SESSION_SOCKET_ID, requestId, payload);
        Bytes.put16(buffer, index, version);
        Bytes.put32(buffer, index + 2, (int) maxPayload);
        return putStr(buffer, index + 6, guestName);
    }

    public static int helloReply(ByteBuffer buffer, int offset, int requestId, int version, long maxPayload) {
        checkU16(version, "version");
        checkU32(maxPayload, "max payload");
        int index = okReply(buffer, offset, SESSION_SOCKET_ID, requestId, 2 + 4);
        Bytes.put16(buffer, index, version);
        Bytes.put32(buffer, index + 2, (int) maxPayload);
        return index + 6;
    }

    /** A reply that carries no data: {@link VsockFrame#STATUS_OK} for a request that has none, or an errno. */
    public static int reply(ByteBuffer buffer, int offset, int socketId, int requestId, int status) {
        int index = writeHeader(buffer, offset, OP_REPLY, 0, socketId, requestId, STATUS_LENGTH);
        Bytes.put32(buffer, index, status);
        return index + STATUS_LENGTH;
    }

    public static int create(ByteBuffer buffer, int offset, int socketId, int requestId, int type, int family) {
        checkU8(type, "type");
        checkU8(family, "family");
        int index = writeHeader(buffer, offset, OP_CREATE, 0, socketId, requestId, 2);
        Bytes.put8(buffer, index, type);
        Bytes.put8(buffer, index + 1, family);
        return index + 2;
    }

    public static int connect(ByteBuffer buffer, int offset, int socketId, int requestId, String uri) {
        return strFrame(buffer, offset, OP_CONNECT, socketId, requestId, uri, "URI");
    }

    public static int connectReply(ByteBuffer buffer, int offset, int socketId, int requestId, long initialCredit,
                                   String localUri) {
        checkU32(initialCredit, "initial credit");
        int index = okReply(buffer, offset, socketId, requestId, 4 + strLength(localUri, "local URI"));
        Bytes.put32(buffer, index, (int) initialCredit);
        return putStr(buffer, index + 4, localUri);
    }

    public static int bind(ByteBuffer buffer, int offset, int socketId, int requestId, String uri) {
        return strFrame(buffer, offset, OP_BIND, socketId, requestId, uri, "URI");
    }

    public static int bindReply(ByteBuffer buffer, int offset, int socketId, int requestId, String boundUri) {
        int index = okReply(buffer, offset, socketId, requestId, strLength(boundUri, "bound URI"));
        return putStr(buffer, index, boundUri);
    }

    public static int listen(ByteBuffer buffer, int offset, int socketId, int requestId, long backlog) {
        checkU32(backlog, "backlog");
        return u32Frame(buffer, offset, OP_LISTEN, socketId, requestId, (int) backlog);
    }

    /** The host's event for a connection accepted on {@code listeningSocketId}; {@code newSocketId} (even) goes in the header. */
    public static int accept(ByteBuffer buffer, int offset, int newSocketId, int listeningSocketId, long initialCredit,
                             String peerUri) {
        checkU32(initialCredit, "initial credit");
        int payload = 4 + 4 + strLength(peerUri, "peer URI");
        int index = writeHeader(buffer, offset, OP_ACCEPT, 0, newSocketId, NO_REQUEST_ID, payload);
        Bytes.put32(buffer, index, listeningSocketId);
        Bytes.put32(buffer, index + 4, (int) initialCredit);
        return putStr(buffer, index + 8, peerUri);
    }

    /** Stream bytes {@code source[sourceOffset, sourceOffset + length)}, absolute; the source's position is not touched. */
    public static int data(ByteBuffer buffer, int offset, int socketId, ByteBuffer source, int sourceOffset, int length) {
        int index = writeHeader(buffer, offset, OP_DATA, 0, socketId, NO_REQUEST_ID, length);
        buffer.put(index, source, sourceOffset, length);
        return index + length;
    }

    public static int data(ByteBuffer buffer, int offset, int socketId, byte[] source, int sourceOffset, int length) {
        int index = writeHeader(buffer, offset, OP_DATA, 0, socketId, NO_REQUEST_ID, length);
        buffer.put(index, source, sourceOffset, length);
        return index + length;
    }

    /** A datagram to {@code uri}; request id {@link VsockFrame#NO_REQUEST_ID} asks for no reply. */
    public static int sendTo(ByteBuffer buffer, int offset, int socketId, int requestId, String uri, ByteBuffer source,
                             int sourceOffset, int length) {
        return datagramFrame(buffer, offset, OP_SENDTO, socketId, requestId, uri, "URI", source, sourceOffset, length);
    }

    /** The host's event for a datagram received from {@code sourceUri}. */
    public static int recvFrom(ByteBuffer buffer, int offset, int socketId, String sourceUri, ByteBuffer source,
                               int sourceOffset, int length) {
        return datagramFrame(buffer, offset, OP_RECVFROM, socketId, NO_REQUEST_ID, sourceUri, "source URI", source,
            sourceOffset, length);
    }

    /** {@code how} is one of the {@code SHUTDOWN_*} values; the host sends it with {@link VsockFrame#NO_REQUEST_ID}. */
    public static int shutdown(ByteBuffer buffer, int offset, int socketId, int requestId, int how) {
        checkU8(how, "how");
        int index = writeHeader(buffer, offset, OP_SHUTDOWN, 0, socketId, requestId, 1);
        Bytes.put8(buffer, index, how);
        return index + 1;
    }

    /** The guest's close, which the host answers. */
    public static int close(ByteBuffer buffer, int offset, int socketId, int requestId) {
        return writeHeader(buffer, offset, OP_CLOSE, 0, socketId, requestId, 0);
    }

    /** The host's event: the socket failed with {@code errno} and is gone on both sides. */
    public static int hostClose(ByteBuffer buffer, int offset, int socketId, int errno) {
        return u32Frame(buffer, offset, OP_CLOSE, socketId, NO_REQUEST_ID, errno);
    }

    public static int getSockName(ByteBuffer buffer, int offset, int socketId, int requestId) {
        return writeHeader(buffer, offset, OP_GETSOCKNAME, 0, socketId, requestId, 0);
    }

    public static int getPeerName(ByteBuffer buffer, int offset, int socketId, int requestId) {
        return writeHeader(buffer, offset, OP_GETPEERNAME, 0, socketId, requestId, 0);
    }

    /** The reply to {@link VsockFrame#OP_GETSOCKNAME} or {@link VsockFrame#OP_GETPEERNAME}: the address as a URI. */
    public static int nameReply(ByteBuffer buffer, int offset, int socketId, int requestId, String uri) {
        int index = okReply(buffer, offset, socketId, requestId, strLength(uri, "URI"));
        return putStr(buffer, index, uri);
    }

    /** {@code value} is signed: {@link VsockFrame#OPTION_SO_LINGER} uses {@link VsockFrame#LINGER_OFF}. */
    public static int setSockOpt(ByteBuffer buffer, int offset, int socketId, int requestId, int option, int value) {
        checkU16(option, "option");
        int index = writeHeader(buffer, offset, OP_SETSOCKOPT, 0, socketId, requestId, 2 + 4);
        Bytes.put16(buffer, index, option);
        Bytes.put32(buffer, index + 2, value);
        return index + 6;
    }

    public static int getSockOpt(ByteBuffer buffer, int offset, int socketId, int requestId, int option) {
        return u16Frame(buffer, offset, OP_GETSOCKOPT, socketId, requestId, option, "option");
    }

    public static int getSockOptReply(ByteBuffer buffer, int offset, int socketId, int requestId, int value) {
        int index = okReply(buffer, offset, socketId, requestId, 4);
        Bytes.put32(buffer, index, value);
        return index + 4;
    }

    /** {@code events} is a set of {@code POLL_*} bits. */
    public static int poll(ByteBuffer buffer, int offset, int socketId, int requestId, int events) {
        return u16Frame(buffer, offset, OP_POLL, socketId, requestId, events, "events");
    }

    public static int pollReply(ByteBuffer buffer, int offset, int socketId, int requestId, int revents) {
        checkU16(revents, "revents");
        int index = okReply(buffer, offset, socketId, requestId, 2);
        Bytes.put16(buffer, index, revents);
        return index + 2;
    }

    /** The sender of this frame will accept {@code bytes} more of the socket's data. */
    public static int credit(ByteBuffer buffer, int offset, int socketId, long bytes) {
        checkU32(bytes, "credit");
        return u32Frame(buffer, offset, OP_CREDIT, socketId, NO_REQUEST_ID, (int) bytes);
    }

    /** Resolves {@code dnsUri} ({@code dns://NAME}); a session request, socket id {@link VsockFrame#SESSION_SOCKET_ID}. */
    public static int resolve(ByteBuffer buffer, int offset, int requestId, String dnsUri) {
        return strFrame(buffer, offset, OP_RESOLVE, SESSION_SOCKET_ID, requestId, dnsUri, "URI");
    }

    /** Each address is 4 bytes (IPv4) or 16 (IPv6); the family byte is derived from its length. */
    public static int resolveReply(ByteBuffer buffer, int offset, int requestId, List<byte[]> addresses) {
        if (addresses.size() > U16_MAX) {
            throw new IllegalArgumentException(addresses.size() + " addresses do not fit a u16 count");
        }
        int payload = 2;
        for (int i = 0; i < addresses.size(); i++) {
            int length = addresses.get(i).length;
            if (length != 4 && length != 16) {
                throw new IllegalArgumentException("address " + i + " is " + length + " bytes, neither 4 nor 16");
            }
            payload += 1 + length;
        }
        int index = okReply(buffer, offset, SESSION_SOCKET_ID, requestId, payload);
        Bytes.put16(buffer, index, addresses.size());
        index += 2;
        for (byte[] address : addresses) {
            Bytes.put8(buffer, index, address.length == 4 ? FAMILY_IPV4 : FAMILY_IPV6);
            buffer.put(index + 1, address);
            index += 1 + address.length;
        }
        return index;
    }

    /** The last frame of a session, from either side. */
    public static int goodbye(ByteBuffer buffer, int offset, int status, String reason) {
        int index = writeHeader(buffer, offset, OP_GOODBYE, 0, SESSION_SOCKET_ID, NO_REQUEST_ID,
            4 + strLength(reason, "reason"));
        Bytes.put32(buffer, index, status);
        return putStr(buffer, index + 4, reason);
    }

    private static int okReply(ByteBuffer buffer, int offset, int socketId, int requestId, int dataLength) {
        int index = writeHeader(buffer, offset, OP_REPLY, 0, socketId, requestId, STATUS_LENGTH + dataLength);
        Bytes.put32(buffer, index, STATUS_OK);
        return index + STATUS_LENGTH;
    }

    private static int strFrame(ByteBuffer buffer, int offset, int op, int socketId, int requestId, String value,
                                String field) {
        int index = writeHeader(buffer, offset, op, 0, socketId, requestId, strLength(value, field));
        return putStr(buffer, index, value);
    }

    private static int u16Frame(ByteBuffer buffer, int offset, int op, int socketId, int requestId, int value,
                                String field) {
        checkU16(value, field);
        int index = writeHeader(buffer, offset, op, 0, socketId, requestId, 2);
        Bytes.put16(buffer, index, value);
        return index + 2;
    }

    private static int u32Frame(ByteBuffer buffer, int offset, int op, int socketId, int requestId, int value) {
        int index = writeHeader(buffer, offset, op, 0, socketId, requestId, 4);
        Bytes.put32(buffer, index, value);
        return index + 4;
    }

    private static int datagramFrame(ByteBuffer buffer, int offset, int op, int socketId, int requestId, String uri,
                                     String uriField, ByteBuffer source, int sourceOffset, int length) {
        if (length < 0) {
            throw new IllegalArgumentException(opName(op) + " datagram length " + length + " is negative");
        }
        int uriLength = strLength(uri, uriField);
        int index = writeHeader(buffer, offset, op, 0, socketId, requestId, uriLength + length);
        index = putStr(buffer, index, uri);
        buffer.put(index, source, sourceOffset, length);
        return index + length;
    }

    /** Bytes a {@code str} field takes: a u16 length and the UTF-8 bytes. */
    private static int strLength(String value, String field) {
        int utf8Length = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                utf8Length += 1;
            } else if (c < 0x800) {
                utf8Length += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < value.length()
                && Character.isLowSurrogate(value.charAt(i + 1))) {
                utf8Length += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                // UTF-8 cannot encode half a pair; String.getBytes would silently send '?' instead.
                throw new IllegalArgumentException(field + " has an unpaired surrogate at index " + i);
            } else {
                utf8Length += 3;
            }
        }
        if (utf8Length > U16_MAX) {
            throw new IllegalArgumentException(field + " is " + utf8Length + " UTF-8 bytes, more than a str holds ("
                + U16_MAX + ")");
        }
        return 2 + utf8Length;
    }

    /** Writes a {@code str} already measured by {@link #strLength}; returns the index after it. */
    private static int putStr(ByteBuffer buffer, int index, String value) {
        int start = index + 2;
        int at = start;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                buffer.put(at++, (byte) c);
            } else if (c < 0x800) {
                buffer.put(at++, (byte) (0xC0 | c >>> 6));
                buffer.put(at++, (byte) (0x80 | c & 0x3F));
            } else if (Character.isHighSurrogate(c)) {
                int codePoint = Character.toCodePoint(c, value.charAt(++i));
                buffer.put(at++, (byte) (0xF0 | codePoint >>> 18));
                buffer.put(at++, (byte) (0x80 | codePoint >>> 12 & 0x3F));
                buffer.put(at++, (byte) (0x80 | codePoint >>> 6 & 0x3F));
                buffer.put(at++, (byte) (0x80 | codePoint & 0x3F));
            } else {
                buffer.put(at++, (byte) (0xE0 | c >>> 12));
                buffer.put(at++, (byte) (0x80 | c >>> 6 & 0x3F));
                buffer.put(at++, (byte) (0x80 | c & 0x3F));
            }
        }
        Bytes.put16(buffer, index, at - start);
        return at;
    }

    private static void checkU8(int value, String field) {
        if (value < 0 || value > 0xFF) {
            throw new IllegalArgumentException(field + " " + value + " does not fit a u8");
        }
    }

    private static void checkU16(int value, String field) {
        if (value < 0 || value > U16_MAX) {
            throw new IllegalArgumentException(field + " " + value + " does not fit a u16");
        }
    }

    private static void checkU32(long value, String field) {
        if (value < 0 || value > U32_MAX) {
            throw new IllegalArgumentException(field + " " + value + " does not fit a u32");
        }
    }
}
