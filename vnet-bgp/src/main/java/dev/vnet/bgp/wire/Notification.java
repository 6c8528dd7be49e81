package dev.vnet.bgp.wire;

import java.util.Arrays;
import java.util.HexFormat;

/** NOTIFICATION (RFC 4271 §4.5): error code (1), subcode (1), data (the rest). */
public record Notification(int code, int subcode, byte[] data) implements BgpMessage {
    public static final int MIN_BODY_LENGTH = 2;

    public Notification {
        data = data == null ? new byte[0] : data.clone();
    }

    public Notification(int code, int subcode) {
        this(code, subcode, null);
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    byte[] dataUnsafe() {
        return data;
    }

    @Override
    public int type() {
        return TYPE_NOTIFICATION;
    }

    public String describe() {
        return BgpError.describe(code, subcode) + (data.length == 0 ? "" : " (data " + HexFormat.of().formatHex(data) + ")");
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Notification n && n.code == code && n.subcode == subcode && Arrays.equals(n.data, data);
    }

    @Override
    public int hashCode() {
        return (code * 256 + subcode) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Notification[" + describe() + "]";
    }
}
