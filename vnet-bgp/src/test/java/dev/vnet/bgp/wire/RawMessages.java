package dev.vnet.bgp.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** Builds BGP messages octet by octet, valid or not, and runs bytes through a decoder. */
public final class RawMessages {
    private RawMessages() {
    }

    public static byte[] message(int type, byte[] body) {
        return message(type, body, 19 + body.length);
    }

    /** A message with the given length field (which may be a lie). */
    public static byte[] message(int type, byte[] body, int lengthField) {
        byte[] bytes = new byte[19 + body.length];
        java.util.Arrays.fill(bytes, 0, 16, (byte) 0xFF);
        bytes[16] = (byte) (lengthField >>> 8);
        bytes[17] = (byte) lengthField;
        bytes[18] = (byte) type;
        System.arraycopy(body, 0, bytes, 19, body.length);
        return bytes;
    }

    public static byte[] attribute(int flags, int type, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(flags);
        out.write(type);
        if ((flags & PathAttributes.FLAG_EXTENDED_LENGTH) != 0) {
            out.write(value.length >>> 8);
        }
        out.write(value.length);
        out.writeBytes(value);
        return out.toByteArray();
    }

    /** An UPDATE body: withdrawn routes, attributes (concatenated), NLRI. */
    public static byte[] updateBody(byte[] withdrawn, byte[] attributes, byte[] nlri) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(withdrawn.length >>> 8);
        out.write(withdrawn.length);
        out.writeBytes(withdrawn);
        out.write(attributes.length >>> 8);
        out.write(attributes.length);
        out.writeBytes(attributes);
        out.writeBytes(nlri);
        return out.toByteArray();
    }

    public static byte[] update(byte[]... attributes) {
        return message(BgpMessage.TYPE_UPDATE, updateBody(new byte[0], concat(attributes), new byte[0]));
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    public static byte[] origin(int value) {
        return attribute(0x40, PathAttributes.ORIGIN, new byte[] {(byte) value});
    }

    /** AS_PATH of one AS_SEQUENCE with 4-octet ASNs. */
    public static byte[] asPath(int... asns) {
        if (asns.length == 0) {
            return attribute(0x40, PathAttributes.AS_PATH, new byte[0]);
        }
        ByteBuf value = Unpooled.buffer();
        value.writeByte(AsPath.AS_SEQUENCE).writeByte(asns.length);
        for (int as : asns) {
            value.writeInt(as);
        }
        return attribute(0x40, PathAttributes.AS_PATH, bytes(value));
    }

    /** MP_REACH_NLRI for VPN-IPv4 with next hop and the given encoded NLRI. */
    public static byte[] mpReach(int nextHop, byte[] nlri) {
        ByteBuf value = Unpooled.buffer();
        value.writeShort(1).writeByte(128).writeByte(12).writeLong(0).writeInt(nextHop).writeByte(0).writeBytes(nlri);
        return attribute(0x90, PathAttributes.MP_REACH_NLRI, bytes(value));
    }

    public static byte[] mpUnreach(byte[] nlri) {
        ByteBuf value = Unpooled.buffer();
        value.writeShort(1).writeByte(128).writeBytes(nlri);
        return attribute(0x90, PathAttributes.MP_UNREACH_NLRI, bytes(value));
    }

    /** One VPN-IPv4 NLRI: label (bottom of stack), RD, prefix. */
    public static byte[] vpnNlri(int label, long rd, int address, int prefixLength) {
        ByteBuf value = Unpooled.buffer();
        value.writeByte(88 + prefixLength).writeMedium(label << 4 | 1).writeLong(rd);
        for (int i = 0; i < (prefixLength + 7) / 8; i++) {
            value.writeByte(address >>> (24 - 8 * i));
        }
        return bytes(value);
    }

    public static byte[] bytes(ByteBuf buffer) {
        byte[] bytes = new byte[buffer.readableBytes()];
        buffer.readBytes(bytes);
        buffer.release();
        return bytes;
    }

    /** Everything a fresh decoder makes of these bytes (messages and decode errors). */
    public static List<Object> decode(byte[] bytes) {
        return decode(bytes, true);
    }

    public static List<Object> decode(byte[] bytes, boolean fourOctetAs) {
        BgpMessageDecoder decoder = new BgpMessageDecoder();
        decoder.fourOctetAs(fourOctetAs);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        List<Object> out = new ArrayList<>();
        for (Object message; (message = channel.readInbound()) != null; ) {
            out.add(message);
        }
        channel.finishAndReleaseAll();
        return out;
    }

    public static Object decodeOne(byte[] bytes) {
        List<Object> out = decode(bytes);
        if (out.size() != 1) {
            throw new AssertionError("expected one decoded object, got " + out);
        }
        return out.getFirst();
    }

    /** Encodes with a fresh encoder channel. */
    public static byte[] encode(BgpMessage message, boolean fourOctetAs) {
        ByteBuf out = Unpooled.buffer();
        BgpMessageEncoder.encode(message, fourOctetAs, out);
        return bytes(out);
    }
}
