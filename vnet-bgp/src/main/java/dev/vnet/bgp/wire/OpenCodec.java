package dev.vnet.bgp.wire;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * OPEN body encoding and decoding (RFC 4271 §4.2, RFC 5492, and the extended optional parameters
 * length of RFC 9072 on receipt). Each capability is sent in an optional parameter of its own, the form
 * every implementation accepts. Parameters other than capabilities are refused with Unsupported Optional
 * Parameter; a capability with an unexpected length is kept as {@link Capability.Unknown} (and so
 * ignored) rather than refusing the session.
 */
final class OpenCodec {
    private static final int EXTENDED_PARAMETERS = 255;

    private OpenCodec() {
    }

    static void encode(Open open, ByteBuf out) {
        out.writeByte(open.version());
        out.writeShort(open.myAsField());
        out.writeShort(open.holdTime());
        out.writeInt(open.bgpIdentifier());
        int lengthIndex = out.writerIndex();
        out.writeByte(0);
        for (Capability capability : open.capabilities()) {
            out.writeByte(Open.PARAMETER_CAPABILITIES);
            int parameterLengthIndex = out.writerIndex();
            out.writeByte(0);
            out.writeByte(capability.code());
            int capabilityLengthIndex = out.writerIndex();
            out.writeByte(0);
            switch (capability) {
                case Capability.Multiprotocol mp -> {
                    out.writeShort(mp.afi());
                    out.writeByte(0);
                    out.writeByte(mp.safi());
                }
                case Capability.RouteRefresh ignored -> { }
                case Capability.FourOctetAs four -> out.writeInt((int) four.as());
                case Capability.VnetExtension vnet -> {
                    out.writeInt(Capability.VnetExtension.MAGIC);
                    out.writeShort(vnet.version());
                }
                case Capability.Unknown unknown -> out.writeBytes(unknown.value());
            }
            int capabilityLength = out.writerIndex() - capabilityLengthIndex - 1;
            out.setByte(capabilityLengthIndex, capabilityLength);
            out.setByte(parameterLengthIndex, capabilityLength + 2);
        }
        int parametersLength = out.writerIndex() - lengthIndex - 1;
        if (parametersLength >= EXTENDED_PARAMETERS) {
            throw new IllegalArgumentException("OPEN optional parameters of " + parametersLength + " octets need RFC 9072");
        }
        out.setByte(lengthIndex, parametersLength);
    }

    static Open decode(ByteBuf body) throws MalformedMessageException {
        int version = body.readUnsignedByte();
        if (version != Open.VERSION) {
            throw new MalformedMessageException(BgpError.OPEN_MESSAGE, BgpError.UNSUPPORTED_VERSION,
                    new byte[] {0, Open.VERSION}, "BGP version " + version + " (this speaker runs 4)");
        }
        int myAs = body.readUnsignedShort();
        int holdTime = body.readUnsignedShort();
        int identifier = body.readInt();
        int parametersLength = body.readUnsignedByte();
        boolean extended = false;
        if (parametersLength == EXTENDED_PARAMETERS && body.isReadable() && body.getUnsignedByte(body.readerIndex()) == EXTENDED_PARAMETERS) {
            body.skipBytes(1);
            if (body.readableBytes() < 2) {
                throw malformed("extended optional parameters length is missing");
            }
            parametersLength = body.readUnsignedShort();
            extended = true;
        }
        if (parametersLength != body.readableBytes()) {
            throw malformed("optional parameters length " + parametersLength + " but " + body.readableBytes() + " octets follow");
        }
        List<Capability> capabilities = new ArrayList<>();
        while (body.isReadable()) {
            int headerLength = extended ? 3 : 2;
            if (body.readableBytes() < headerLength) {
                throw malformed("truncated optional parameter");
            }
            int type = body.readUnsignedByte();
            int length = extended ? body.readUnsignedShort() : body.readUnsignedByte();
            if (length > body.readableBytes()) {
                throw malformed("optional parameter of " + length + " octets overruns the message");
            }
            if (type != Open.PARAMETER_CAPABILITIES) {
                byte[] data = new byte[length + headerLength];
                body.getBytes(body.readerIndex() - headerLength, data);
                throw new MalformedMessageException(BgpError.OPEN_MESSAGE, BgpError.UNSUPPORTED_OPTIONAL_PARAMETER, data,
                        "optional parameter type " + type);
            }
            ByteBuf parameter = body.readSlice(length);
            while (parameter.isReadable()) {
                if (parameter.readableBytes() < 2) {
                    throw malformed("truncated capability");
                }
                int code = parameter.readUnsignedByte();
                int capabilityLength = parameter.readUnsignedByte();
                if (capabilityLength > parameter.readableBytes()) {
                    throw malformed("capability " + code + " of " + capabilityLength + " octets overruns its parameter");
                }
                capabilities.add(capability(code, parameter.readSlice(capabilityLength)));
            }
        }
        return new Open(version, myAs, holdTime, identifier, capabilities);
    }

    private static Capability capability(int code, ByteBuf value) {
        int length = value.readableBytes();
        switch (code) {
            case Capability.MULTIPROTOCOL -> {
                if (length == 4) {
                    return new Capability.Multiprotocol(value.getUnsignedShort(value.readerIndex()), value.getUnsignedByte(value.readerIndex() + 3));
                }
            }
            case Capability.ROUTE_REFRESH -> {
                if (length == 0) {
                    return new Capability.RouteRefresh();
                }
            }
            case Capability.FOUR_OCTET_AS -> {
                if (length == 4) {
                    return new Capability.FourOctetAs(value.getUnsignedInt(value.readerIndex()));
                }
            }
            case Capability.VNET_EXTENSION -> {
                if (length == Capability.VnetExtension.LENGTH && value.getInt(value.readerIndex()) == Capability.VnetExtension.MAGIC) {
                    int version = value.getUnsignedShort(value.readerIndex() + 4);
                    if (version > 0) {
                        return new Capability.VnetExtension(version);
                    }
                }
            }
            default -> { }
        }
        byte[] bytes = new byte[length];
        value.getBytes(value.readerIndex(), bytes);
        return new Capability.Unknown(code, bytes);
    }

    private static MalformedMessageException malformed(String reason) {
        return new MalformedMessageException(BgpError.OPEN_MESSAGE, 0, null, reason);
    }
}
