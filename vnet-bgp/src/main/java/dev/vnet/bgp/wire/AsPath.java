package dev.vnet.bgp.wire;

import java.util.Arrays;

/**
 * An AS_PATH (RFC 4271 §4.3, §5.1.2): segments of AS_SET or AS_SEQUENCE (and the confederation kinds,
 * RFC 5065), each a type and up to 255 ASNs. Held in one {@code int[]} laid out as on the wire with
 * one int per field, {@code [type, count, as1 .. asN, type, count, ...]}; ASNs are unsigned 32-bit
 * (RFC 6793), so the path is independent of whether a session carries them in 2 or 4 octets.
 * Immutable: {@link #prepend} returns a new path.
 */
public final class AsPath {
    public static final int AS_SET = 1;
    public static final int AS_SEQUENCE = 2;
    public static final int AS_CONFED_SEQUENCE = 3;
    public static final int AS_CONFED_SET = 4;
    /** RFC 6793: stands in for a 4-octet AS in 2-octet fields. */
    public static final int AS_TRANS = 23456;
    public static final AsPath EMPTY = new AsPath(new int[0]);

    private final int[] data;
    private final int hash;

    private AsPath(int[] data) {
        this.data = data;
        this.hash = Arrays.hashCode(data);
    }

    /** One AS_SEQUENCE of the given ASNs (empty: the empty path). */
    public static AsPath sequence(int... asns) {
        if (asns.length == 0) {
            return EMPTY;
        }
        AsPath path = EMPTY;
        for (int i = asns.length - 1; i >= 0; i--) {
            path = path.prepend(asns[i]);
        }
        return path;
    }

    /** Wraps segment data already validated by the decoder ({@code [type, count, asns..]...}). */
    static AsPath ofValidated(int[] data) {
        return data.length == 0 ? EMPTY : new AsPath(data);
    }

    int[] data() {
        return data;
    }

    public boolean isEmpty() {
        return data.length == 0;
    }

    /**
     * The length used by best-path selection (RFC 4271 §9.1.2.2 a): an AS_SET counts 1 however many ASNs
     * it holds, confederation segments count 0 (RFC 5065 §5.3).
     */
    public int selectionLength() {
        int length = 0;
        for (int i = 0; i < data.length; i += 2 + data[i + 1]) {
            switch (data[i]) {
                case AS_SEQUENCE -> length += data[i + 1];
                case AS_SET -> length += 1;
                default -> { }
            }
        }
        return length;
    }

    /** Number of ASNs in all segments. */
    public int asCount() {
        int count = 0;
        for (int i = 0; i < data.length; i += 2 + data[i + 1]) {
            count += data[i + 1];
        }
        return count;
    }

    /** The neighbouring AS (the first of a leading AS_SEQUENCE), or 0 when the path does not start with one. */
    public int firstAs() {
        return data.length > 0 && data[0] == AS_SEQUENCE ? data[2] : 0;
    }

    public boolean contains(int as) {
        for (int i = 0; i < data.length; i += 2 + data[i + 1]) {
            for (int j = 0; j < data[i + 1]; j++) {
                if (data[i + 2 + j] == as) {
                    return true;
                }
            }
        }
        return false;
    }

    /** True if any ASN needs 4 octets (so a 2-octet session also needs AS4_PATH). */
    public boolean hasFourOctetAs() {
        for (int i = 0; i < data.length; i += 2 + data[i + 1]) {
            for (int j = 0; j < data[i + 1]; j++) {
                if ((data[i + 2 + j] & 0xFFFF_0000) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** This path with {@code as} in front, in the leading AS_SEQUENCE if it has room (RFC 4271 §5.1.2). */
    public AsPath prepend(int as) {
        if (data.length > 0 && data[0] == AS_SEQUENCE && data[1] < 255) {
            int[] longer = new int[data.length + 1];
            longer[0] = AS_SEQUENCE;
            longer[1] = data[1] + 1;
            longer[2] = as;
            System.arraycopy(data, 2, longer, 3, data.length - 2);
            return new AsPath(longer);
        }
        int[] longer = new int[data.length + 3];
        longer[0] = AS_SEQUENCE;
        longer[1] = 1;
        longer[2] = as;
        System.arraycopy(data, 0, longer, 3, data.length);
        return new AsPath(longer);
    }

    /** Encoded length of the attribute value with 4- or 2-octet ASNs. */
    public int encodedLength(boolean fourOctet) {
        int length = 0;
        for (int i = 0; i < data.length; i += 2 + data[i + 1]) {
            length += 2 + data[i + 1] * (fourOctet ? 4 : 2);
        }
        return length;
    }

    /**
     * Merges a 2-octet AS_PATH with the AS4_PATH a 2-octet speaker passed on (RFC 6793 §4.2.3): when the
     * AS_PATH holds at least as many ASNs, its leading ones are kept and the rest replaced by AS4_PATH;
     * otherwise AS4_PATH is ignored.
     */
    public static AsPath merge(AsPath asPath, AsPath as4Path) {
        int total = asPath.asCount();
        int as4 = as4Path.asCount();
        if (as4 > total) {
            return asPath;
        }
        int keep = total - as4;
        int[] merged = new int[asPath.data.length + as4Path.data.length];
        int out = 0;
        for (int i = 0; i < asPath.data.length && keep > 0; i += 2 + asPath.data[i + 1]) {
            int count = Math.min(asPath.data[i + 1], keep);
            merged[out++] = asPath.data[i];
            merged[out++] = count;
            System.arraycopy(asPath.data, i + 2, merged, out, count);
            out += count;
            keep -= count;
        }
        System.arraycopy(as4Path.data, 0, merged, out, as4Path.data.length);
        out += as4Path.data.length;
        return ofValidated(Arrays.copyOf(merged, out));
    }

    @Override
    public boolean equals(Object other) {
        return this == other || other instanceof AsPath path && hash == path.hash && Arrays.equals(data, path.data);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < data.length; i += 2 + data[i + 1]) {
            if (!text.isEmpty()) {
                text.append(' ');
            }
            boolean set = data[i] == AS_SET || data[i] == AS_CONFED_SET;
            boolean confed = data[i] == AS_CONFED_SEQUENCE || data[i] == AS_CONFED_SET;
            text.append(confed ? "(" : "").append(set ? "{" : "");
            for (int j = 0; j < data[i + 1]; j++) {
                text.append(j == 0 ? "" : set ? "," : " ").append(Integer.toUnsignedString(data[i + 2 + j]));
            }
            text.append(set ? "}" : "").append(confed ? ")" : "");
        }
        return text.toString();
    }
}
