package dev.vnet.bgp.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Encodes {@link BgpMessage}s. An {@link Update} whose routes do not fit one message becomes as many
 * messages as needed, back to back in one buffer. {@link ByteBuf}s written to the pipeline pass through
 * untouched: the Adj-RIB-Out writes its UPDATEs with {@link UpdateWriter} itself, with no message objects.
 *
 * <p>{@link #fourOctetAs} says how AS numbers go on this connection; the session sets it once both OPENs
 * are known (RFC 6793: 4 octets only when both ends advertised the capability).
 */
public final class BgpMessageEncoder extends MessageToByteEncoder<BgpMessage> {
    private boolean fourOctetAs = true;

    public BgpMessageEncoder() {
        super(BgpMessage.class);
    }

    public void fourOctetAs(boolean fourOctetAs) {
        this.fourOctetAs = fourOctetAs;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, BgpMessage message, ByteBuf out) {
        encode(message, fourOctetAs, out);
    }

    /** Encodes one message (several for a large {@link Update}) into {@code out}. */
    public static void encode(BgpMessage message, boolean fourOctetAs, ByteBuf out) {
        switch (message) {
            case Keepalive ignored -> simple(out, BgpMessage.TYPE_KEEPALIVE, 0);
            case Open open -> {
                int start = out.writerIndex();
                UpdateWriter.writeHeader(out, BgpMessage.TYPE_OPEN);
                OpenCodec.encode(open, out);
                out.setShort(start + BgpMessage.LENGTH_OFFSET, out.writerIndex() - start);
            }
            case Notification notification -> {
                byte[] data = notification.dataUnsafe();
                int dataLength = Math.min(data.length, BgpMessage.MAX_LENGTH - BgpMessage.HEADER_LENGTH - Notification.MIN_BODY_LENGTH);
                simple(out, BgpMessage.TYPE_NOTIFICATION, Notification.MIN_BODY_LENGTH + dataLength);
                out.writeByte(notification.code());
                out.writeByte(notification.subcode());
                out.writeBytes(data, 0, dataLength);
            }
            case RouteRefresh refresh -> {
                simple(out, BgpMessage.TYPE_ROUTE_REFRESH, RouteRefresh.BODY_LENGTH);
                out.writeShort(refresh.afi());
                out.writeByte(refresh.subtype());
                out.writeByte(refresh.safi());
            }
            case Update update -> encodeUpdate(update, fourOctetAs, out);
        }
    }

    private static void encodeUpdate(Update update, boolean fourOctetAs, ByteBuf out) {
        VpnNlriList reach = update.reach();
        VpnNlriList withdrawn = update.withdrawn();
        if (!reach.isEmpty()) {
            PathAttributes attributes = update.attributes();
            if (attributes == null) {
                throw new IllegalArgumentException("an UPDATE with routes needs path attributes");
            }
            ByteBuf encoded = out.alloc().heapBuffer(256);
            try {
                UpdateWriter.encodeAttributes(attributes, fourOctetAs, encoded);
                for (int next = 0; next < reach.size(); ) {
                    next = UpdateWriter.writeReach(out, encoded, attributes.nextHop(), reach, next);
                }
            } finally {
                encoded.release();
            }
        }
        for (int next = 0; next < withdrawn.size(); ) {
            next = UpdateWriter.writeWithdraw(out, withdrawn, next);
        }
        if (reach.isEmpty() && withdrawn.isEmpty()) {
            UpdateWriter.writeEndOfRib(out);
        }
    }

    private static void simple(ByteBuf out, int type, int bodyLength) {
        out.writeLong(-1L);
        out.writeLong(-1L);
        out.writeShort(BgpMessage.HEADER_LENGTH + bodyLength);
        out.writeByte(type);
    }
}
