package dev.vnet.bgp.wire;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A path attribute this speaker does not recognise but keeps: an optional transitive one, which RFC
 * 4271 §5 says to pass on with the Partial bit set. {@code flags} are as received (the encoder sets
 * Partial and chooses the length size itself).
 */
public record RawAttribute(int flags, int type, byte[] value) {
    public RawAttribute {
        value = value.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    int length() {
        return value.length;
    }

    byte[] valueUnsafe() {
        return value;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RawAttribute raw && raw.type == type
                && (raw.flags & ~PathAttributes.FLAG_PARTIAL_AND_EXTENDED) == (flags & ~PathAttributes.FLAG_PARTIAL_AND_EXTENDED)
                && Arrays.equals(raw.value, value);
    }

    @Override
    public int hashCode() {
        return type * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "attr" + type + "(flags=0x" + Integer.toHexString(flags) + ", " + HexFormat.of().formatHex(value) + ")";
    }
}
