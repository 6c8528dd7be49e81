package dev.vnet.bgp.wire;

/**
 * What {@link BgpMessageDecoder} produces instead of a message when the input is malformed in a way that
 * ends the session: the NOTIFICATION to answer with (code, subcode, data) and why. After one the decoder
 * reads nothing more from the connection.
 *
 * @param answer false when the malformed message was itself a NOTIFICATION, which is never answered
 *               with one (RFC 4271 §6.4): the session just closes
 */
public record DecodeError(int code, int subcode, byte[] data, String reason, boolean answer) {
    public DecodeError {
        data = data == null ? new byte[0] : data.clone();
    }

    public Notification notification() {
        return new Notification(code, subcode, data);
    }

    @Override
    public String toString() {
        return "DecodeError[" + BgpError.describe(code, subcode) + ": " + reason + "]";
    }
}
