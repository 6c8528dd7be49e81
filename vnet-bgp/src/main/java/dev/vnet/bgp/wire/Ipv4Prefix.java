package dev.vnet.bgp.wire;

import dev.vnet.wire.Ipv4Address;

/**
 * An IPv4 prefix: address and length, the address's bits past the length always zero (a prefix built
 * from an address with host bits set is masked, as a BGP receiver must do with trailing bits).
 */
public record Ipv4Prefix(int address, int length) {
    public Ipv4Prefix {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("IPv4 prefix length " + length + " is outside 0..32");
        }
        address &= mask(length);
    }

    /** Parses {@code a.b.c.d/len}. */
    public static Ipv4Prefix parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not an IPv4 prefix (a.b.c.d/len): " + text);
        }
        return new Ipv4Prefix(Ipv4Address.parse(text.substring(0, slash)), Integer.parseInt(text.substring(slash + 1)));
    }

    /** The network mask of a prefix length, as an int (length 0: 0). */
    public static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    @Override
    public String toString() {
        return Ipv4Address.toString(address) + "/" + length;
    }
}
