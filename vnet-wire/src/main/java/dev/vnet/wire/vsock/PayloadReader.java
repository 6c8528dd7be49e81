package dev.vnet.wire.vsock;

import dev.vnet.wire.Bytes;

import static dev.vnet.wire.vsock.VsockFrame.*;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Reads each op's payload, as {@link FrameWriter} writes it, from the absolute region
 * {@code [offset, offset + length)} of a buffer (a frame's {@link VsockFrame#payloadOffset()} and
 * {@link VsockFrame#payloadLength()}); position and limit are not touched.
 *
 * <p>Every field is checked against the payload's length, a {@code str} must be valid UTF-8, and
 * nothing may follow the last field: anything else is a {@link MalformedPayloadException} naming
 * the op and the field. Values are not judged here (an unknown socket type or option is the
 * session's to answer with an errno, and the session goes on), only the layout, which a peer can
 * only get wrong by breaking the protocol. A region outside the buffer is the caller's bug, an
 * IndexOutOfBoundsException.
 *
 * <p>A {@link VsockFrame#OP_REPLY} is read in two steps, because only the request's sender knows
 * which op it answers: {@link #status} first, then, if it is {@link VsockFrame#STATUS_OK}, that op's
 * reply reader, which is given the same whole reply payload.
 */
public final class PayloadReader {
    private PayloadReader() {
    }

    public record Hello(int version, long maxPayload, String guestName) {
    }

    public record HelloReply(int version, long maxPayload) {
    }

    public record Create(int type, int family) {
    }

    public record ConnectReply(long initialCredit, String localUri) {
    }

    public record Accept(int listeningSocketId, long initialCredit, String peerUri) {
    }

    /** A {@link VsockFrame#OP_SENDTO} or {@link VsockFrame#OP_RECVFROM}: the URI and where the datagram's bytes lie, absolute, in the same buffer. */
    public record Datagram(String uri, int dataOffset, int dataLength) {
    }

    public record SocketOption(int option, int value) {
    }

    public record Goodbye(int status, String reason) {
    }

    public static Hello hello(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_HELLO, false, buffer, offset, length);
        Hello hello = new Hello(fields.u16("version"), fields.u32("max payload"), fields.str("guest name"));
        fields.end();
        return hello;
    }

    /**
     * The status of a reply to a request of {@code requestOp}. An error reply must be the status alone,
     * and so must an ok reply to an op whose reply carries no data; the data of the others is checked
     * by their reply readers.
     */
    public static int status(int requestOp, ByteBuffer buffer, int offset, int length) {
        if (!isKnownOp(requestOp)) {
            throw new IllegalArgumentException("unknown op " + requestOp);
        }
        Fields fields = new Fields(requestOp, true, buffer, offset, length);
        int status = fields.i32("status");
        if (status != STATUS_OK || !hasReplyData(requestOp)) {
            fields.end();
        }
        return status;
    }

    private static boolean hasReplyData(int op) {
        return switch (op) {
            case OP_HELLO, OP_CONNECT, OP_BIND, OP_GETSOCKNAME, OP_GETPEERNAME, OP_GETSOCKOPT, OP_POLL, OP_RESOLVE -> true;
            default -> false;
        };
    }

    public static HelloReply helloReply(ByteBuffer buffer, int offset, int length) {
        Fields fields = Fields.okReply(OP_HELLO, buffer, offset, length);
        HelloReply reply = new HelloReply(fields.u16("version"), fields.u32("max payload"));
        fields.end();
        return reply;
    }

    public static Create create(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_CREATE, false, buffer, offset, length);
        Create create = new Create(fields.u8("type"), fields.u8("family"));
        fields.end();
        return create;
    }

    /** The destination URI. */
    public static String connect(ByteBuffer buffer, int offset, int length) {
        return onlyStr(OP_CONNECT, false, "URI", buffer, offset, length);
    }

    public static ConnectReply connectReply(ByteBuffer buffer, int offset, int length) {
        Fields fields = Fields.okReply(OP_CONNECT, buffer, offset, length);
        ConnectReply reply = new ConnectReply(fields.u32("initial credit"), fields.str("local URI"));
        fields.end();
        return reply;
    }

    /** The URI to listen on. */
    public static String bind(ByteBuffer buffer, int offset, int length) {
        return onlyStr(OP_BIND, false, "URI", buffer, offset, length);
    }

    /** The bound URI. */
    public static String bindReply(ByteBuffer buffer, int offset, int length) {
        Fields fields = Fields.okReply(OP_BIND, buffer, offset, length);
        String bound = fields.str("bound URI");
        fields.end();
        return bound;
    }

    /** The backlog, unsigned. */
    public static long listen(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_LISTEN, false, buffer, offset, length);
        long backlog = fields.u32("backlog");
        fields.end();
        return backlog;
    }

    public static Accept accept(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_ACCEPT, false, buffer, offset, length);
        Accept accept = new Accept(fields.i32("listening socket id"), fields.u32("initial credit"), fields.str("peer URI"));
        fields.end();
        return accept;
    }

    public static Datagram sendTo(ByteBuffer buffer, int offset, int length) {
        return datagram(OP_SENDTO, "URI", buffer, offset, length);
    }

    public static Datagram recvFrom(ByteBuffer buffer, int offset, int length) {
        return datagram(OP_RECVFROM, "source URI", buffer, offset, length);
    }

    private static Datagram datagram(int op, String uriField, ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(op, false, buffer, offset, length);
        String uri = fields.str(uriField);
        // The datagram is the rest of the payload, empty included, as UDP allows.
        return new Datagram(uri, fields.index, fields.end - fields.index);
    }

    /** {@code how}: one of the {@code SHUTDOWN_*} values, if the peer follows the protocol. */
    public static int shutdown(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_SHUTDOWN, false, buffer, offset, length);
        int how = fields.u8("how");
        fields.end();
        return how;
    }

    /** The errno of the host's {@link VsockFrame#OP_CLOSE}; the guest's has no payload (see {@link #expectEmpty}). */
    public static int hostClose(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_CLOSE, false, buffer, offset, length);
        int errno = fields.i32("errno");
        fields.end();
        return errno;
    }

    /** For the ops whose payload is empty: the guest's {@link VsockFrame#OP_CLOSE}, {@link VsockFrame#OP_GETSOCKNAME}, {@link VsockFrame#OP_GETPEERNAME}. */
    public static void expectEmpty(int op, int length) {
        if (length != 0) {
            throw new MalformedPayloadException(op, false, "payload", "has " + byteCount(length) + ", expected none");
        }
    }

    /** The socket's local address. */
    public static String sockNameReply(ByteBuffer buffer, int offset, int length) {
        return onlyStr(OP_GETSOCKNAME, true, "URI", buffer, offset, length);
    }

    /** The socket's peer address. */
    public static String peerNameReply(ByteBuffer buffer, int offset, int length) {
        return onlyStr(OP_GETPEERNAME, true, "URI", buffer, offset, length);
    }

    public static SocketOption setSockOpt(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_SETSOCKOPT, false, buffer, offset, length);
        SocketOption option = new SocketOption(fields.u16("option"), fields.i32("value"));
        fields.end();
        return option;
    }

    /** The option asked for. */
    public static int getSockOpt(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_GETSOCKOPT, false, buffer, offset, length);
        int option = fields.u16("option");
        fields.end();
        return option;
    }

    /** The option's value, signed. */
    public static int getSockOptReply(ByteBuffer buffer, int offset, int length) {
        Fields fields = Fields.okReply(OP_GETSOCKOPT, buffer, offset, length);
        int value = fields.i32("value");
        fields.end();
        return value;
    }

    /** The {@code POLL_*} events asked about. */
    public static int poll(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_POLL, false, buffer, offset, length);
        int events = fields.u16("events");
        fields.end();
        return events;
    }

    public static int pollReply(ByteBuffer buffer, int offset, int length) {
        Fields fields = Fields.okReply(OP_POLL, buffer, offset, length);
        int revents = fields.u16("revents");
        fields.end();
        return revents;
    }

    /** The bytes of credit granted, unsigned. Allocates nothing (a hot op), unless it throws. */
    public static long credit(ByteBuffer buffer, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, buffer.limit());
        if (length != 4) {
            throw new MalformedPayloadException(OP_CREDIT, false, length < 4 ? "credit" : "payload",
                length < 4 ? "is truncated: needs 4 bytes, " + length + " left" : "has " + byteCount(length - 4)
                    + " after its last field");
        }
        return Bytes.u32(buffer, offset);
    }

    /** The {@code dns://NAME} URI to resolve. */
    public static String resolve(ByteBuffer buffer, int offset, int length) {
        return onlyStr(OP_RESOLVE, false, "URI", buffer, offset, length);
    }

    /** The addresses, 4 bytes for IPv4 and 16 for IPv6, in the order the host gave them. */
    public static List<byte[]> resolveReply(ByteBuffer buffer, int offset, int length) {
        Fields fields = Fields.okReply(OP_RESOLVE, buffer, offset, length);
        int count = fields.u16("count");
        // The smallest entry is 5 bytes, so a lying count cannot make us reserve more than the payload allows.
        List<byte[]> addresses = new ArrayList<>(Math.min(count, (fields.end - fields.index) / 5));
        for (int i = 0; i < count; i++) {
            int family = fields.u8("address " + i + " family");
            int addressLength = switch (family) {
                case FAMILY_IPV4 -> 4;
                case FAMILY_IPV6 -> 16;
                default -> throw fields.fail("address " + i + " family", "is " + family + ", neither "
                    + FAMILY_IPV4 + " nor " + FAMILY_IPV6);
            };
            addresses.add(fields.bytes("address " + i, addressLength));
        }
        fields.end();
        return Collections.unmodifiableList(addresses);
    }

    public static Goodbye goodbye(ByteBuffer buffer, int offset, int length) {
        Fields fields = new Fields(OP_GOODBYE, false, buffer, offset, length);
        Goodbye goodbye = new Goodbye(fields.i32("status"), fields.str("reason"));
        fields.end();
        return goodbye;
    }

    private static String onlyStr(int op, boolean reply, String field, ByteBuffer buffer, int offset, int length) {
        Fields fields = reply ? Fields.okReply(op, buffer, offset, length) : new Fields(op, false, buffer, offset, length);
        String value = fields.str(field);
        fields.end();
        return value;
    }

    private static String byteCount(int count) {
        return count == 1 ? "1 byte" : count + " bytes";
    }

    /** A cursor over one payload that turns every shortfall into an exception naming the op and field. */
    private static final class Fields {
        private final int op;
        private final boolean reply;
        private final ByteBuffer buffer;
        private final int end;
        private int index;

        Fields(int op, boolean reply, ByteBuffer buffer, int offset, int length) {
            Objects.checkFromIndexSize(offset, length, buffer.limit());
            this.op = op;
            this.reply = reply;
            this.buffer = buffer;
            this.index = offset;
            this.end = offset + length;
        }

        /** A cursor past the status of a reply the caller has already found ok with {@link PayloadReader#status}. */
        static Fields okReply(int op, ByteBuffer buffer, int offset, int length) {
            Fields fields = new Fields(op, true, buffer, offset, length);
            int status = fields.i32("status");
            if (status != STATUS_OK) {
                throw new IllegalArgumentException(opName(op) + " reply has status " + status
                    + ", not ok: an error reply carries no data; read status() first");
            }
            return fields;
        }

        int u8(String field) {
            need(1, field);
            return Bytes.u8(buffer, index++);
        }

        int u16(String field) {
            need(2, field);
            int value = Bytes.u16(buffer, index);
            index += 2;
            return value;
        }

        int i32(String field) {
            need(4, field);
            int value = Bytes.i32(buffer, index);
            index += 4;
            return value;
        }

        long u32(String field) {
            return i32(field) & 0xFFFF_FFFFL;
        }

        byte[] bytes(String field, int count) {
            need(count, field);
            byte[] value = new byte[count];
            buffer.get(index, value);
            index += count;
            return value;
        }

        String str(String field) {
            if (end - index < 2) {
                throw fail(field, "length is truncated: needs 2 bytes, " + (end - index) + " left");
            }
            int length = Bytes.u16(buffer, index);
            index += 2;
            if (length > end - index) {
                throw fail(field, "declares " + byteCount(length) + ", only " + (end - index) + " left");
            }
            try {
                // A fresh decoder reports malformed input rather than replacing it: a URI with
                // replacement characters in it would be matched by the access list as something else.
                String value = StandardCharsets.UTF_8.newDecoder().decode(buffer.slice(index, length)).toString();
                index += length;
                return value;
            } catch (CharacterCodingException e) {
                throw fail(field, "is not valid UTF-8");
            }
        }

        void end() {
            if (index != end) {
                throw fail("payload", "has " + byteCount(end - index) + " after its last field");
            }
        }

        private void need(int count, String field) {
            if (end - index < count) {
                throw fail(field, "is truncated: needs " + byteCount(count) + ", " + (end - index) + " left");
            }
        }

        MalformedPayloadException fail(String field, String problem) {
            return new MalformedPayloadException(op, reply, field, problem);
        }
    }
}
