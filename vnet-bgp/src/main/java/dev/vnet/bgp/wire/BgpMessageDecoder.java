package dev.vnet.bgp.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Frames the TCP byte stream into BGP messages and parses them (RFC 4271 §4, §6.1), producing
 * {@link BgpMessage}s or, for input that ends the session, one {@link DecodeError} after which the rest
 * of the stream is discarded. Nothing malformed escapes as an exception.
 *
 * <p>Framing checks, in the RFC's order, each answered with a Message Header Error:
 * <pre>
 *  marker not all ones                                 1/1 Connection Not Synchronized
 *  length &lt; 19 or &gt; 4096                            1/2 Bad Message Length, data: the length field
 *  type not 1..5                                       1/3 Bad Message Type, data: the type
 *  length wrong for the type: OPEN &lt; 29, UPDATE &lt; 23,  1/2 Bad Message Length, data: the length field
 *    NOTIFICATION &lt; 21, KEEPALIVE != 19,
 *    ROUTE-REFRESH != 23
 * </pre>
 * The header is checked as soon as its 19 octets are in, before the body arrives: a bad length is
 * answered at once instead of waiting for octets that may never come. OPEN errors are OPEN Message
 * Errors ({@link OpenCodec}); UPDATE handling follows RFC 7606 ({@link UpdateDecoder}). A malformed
 * NOTIFICATION is never answered with one (§6.4): its {@link DecodeError} says so.
 *
 * <p>How AS numbers are read ({@link #fourOctetAs}) is set by the session once the OPENs are exchanged.
 */
public final class BgpMessageDecoder extends ByteToMessageDecoder {
    private boolean fourOctetAs = true;
    private boolean failed;

    public void fourOctetAs(boolean fourOctetAs) {
        this.fourOctetAs = fourOctetAs;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < BgpMessage.HEADER_LENGTH) {
            return;
        }
        int start = in.readerIndex();
        if (in.getLong(start) != -1L || in.getLong(start + 8) != -1L) {
            fail(in, out, new DecodeError(BgpError.MESSAGE_HEADER, BgpError.CONNECTION_NOT_SYNCHRONIZED, null,
                    "marker is not all ones", true));
            return;
        }
        int length = in.getUnsignedShort(start + BgpMessage.LENGTH_OFFSET);
        int type = in.getUnsignedByte(start + BgpMessage.TYPE_OFFSET);
        byte[] lengthField = {(byte) (length >>> 8), (byte) length};
        if (length < BgpMessage.HEADER_LENGTH || length > BgpMessage.MAX_LENGTH) {
            fail(in, out, new DecodeError(BgpError.MESSAGE_HEADER, BgpError.BAD_MESSAGE_LENGTH, lengthField,
                    "message length " + length, type != BgpMessage.TYPE_NOTIFICATION));
            return;
        }
        int body = length - BgpMessage.HEADER_LENGTH;
        boolean lengthFits = switch (type) {
            case BgpMessage.TYPE_OPEN -> body >= Open.MIN_BODY_LENGTH;
            case BgpMessage.TYPE_UPDATE -> body >= 4;
            case BgpMessage.TYPE_NOTIFICATION -> body >= Notification.MIN_BODY_LENGTH;
            case BgpMessage.TYPE_KEEPALIVE -> body == 0;
            case BgpMessage.TYPE_ROUTE_REFRESH -> body == RouteRefresh.BODY_LENGTH;
            default -> {
                fail(in, out, new DecodeError(BgpError.MESSAGE_HEADER, BgpError.BAD_MESSAGE_TYPE, new byte[] {(byte) type},
                        "message type " + type, true));
                yield true;
            }
        };
        if (failed) {
            return;
        }
        if (!lengthFits) {
            fail(in, out, new DecodeError(BgpError.MESSAGE_HEADER, BgpError.BAD_MESSAGE_LENGTH, lengthField,
                    "length " + length + " for message type " + type, type != BgpMessage.TYPE_NOTIFICATION));
            return;
        }
        if (in.readableBytes() < length) {
            return;
        }
        ByteBuf message = in.slice(start + BgpMessage.HEADER_LENGTH, body);
        in.skipBytes(length);
        try {
            out.add(parse(type, message));
        } catch (MalformedMessageException e) {
            fail(in, out, e.toDecodeError(type != BgpMessage.TYPE_NOTIFICATION));
        } catch (RuntimeException e) {
            // A parser bug must not take the node down: answer as if the message were malformed.
            fail(in, out, new DecodeError(genericCode(type), type == BgpMessage.TYPE_UPDATE ? BgpError.MALFORMED_ATTRIBUTE_LIST : 0,
                    null, "could not parse message type " + type + ": " + e, type != BgpMessage.TYPE_NOTIFICATION));
        }
    }

    private BgpMessage parse(int type, ByteBuf body) throws MalformedMessageException {
        return switch (type) {
            case BgpMessage.TYPE_OPEN -> OpenCodec.decode(body);
            case BgpMessage.TYPE_UPDATE -> UpdateDecoder.decode(body, fourOctetAs);
            case BgpMessage.TYPE_NOTIFICATION -> {
                int code = body.readUnsignedByte();
                int subcode = body.readUnsignedByte();
                byte[] data = new byte[body.readableBytes()];
                body.readBytes(data);
                yield new Notification(code, subcode, data);
            }
            case BgpMessage.TYPE_KEEPALIVE -> Keepalive.INSTANCE;
            case BgpMessage.TYPE_ROUTE_REFRESH -> new RouteRefresh(body.readUnsignedShort(), body.readUnsignedByte(), body.readUnsignedByte());
            default -> throw new IllegalStateException("type " + type + " passed the header checks");
        };
    }

    private static int genericCode(int type) {
        return switch (type) {
            case BgpMessage.TYPE_OPEN -> BgpError.OPEN_MESSAGE;
            case BgpMessage.TYPE_UPDATE -> BgpError.UPDATE_MESSAGE;
            case BgpMessage.TYPE_ROUTE_REFRESH -> BgpError.ROUTE_REFRESH_MESSAGE;
            default -> BgpError.MESSAGE_HEADER;
        };
    }

    private void fail(ByteBuf in, List<Object> out, DecodeError error) {
        failed = true;
        in.skipBytes(in.readableBytes());
        out.add(error);
    }
}
