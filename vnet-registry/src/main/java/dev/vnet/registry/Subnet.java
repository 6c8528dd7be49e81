package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;

/**
 * An IPv4 subnet a virtual network's VMs get their addresses from.
 *
 * @param address      the network address ({@link Ipv4Address} int form), host bits zero
 * @param prefixLength 1 to 30: a /0 leaves nothing outside for a gateway, and /31 and /32 have no address
 *                     left after the network, broadcast and reserved gateway addresses
 */
public record Subnet(int address, int prefixLength) {
    public static final int MIN_PREFIX_LENGTH = 1;
    public static final int MAX_PREFIX_LENGTH = 30;

    public Subnet {
        if (prefixLength < MIN_PREFIX_LENGTH || prefixLength > MAX_PREFIX_LENGTH) {
            throw new IllegalArgumentException("subnet prefix length must be " + MIN_PREFIX_LENGTH + " to " + MAX_PREFIX_LENGTH
                    + "; got /" + prefixLength);
        }
        if ((address & ~mask(prefixLength)) != 0) {
            throw new IllegalArgumentException("subnet " + Ipv4Address.toString(address) + "/" + prefixLength
                    + " has host bits set; did you mean " + Ipv4Address.toString(address & mask(prefixLength)) + "/" + prefixLength + "?");
        }
    }

    /**
     * Parses {@code a.b.c.d/n} strictly (see {@link Ipv4Address#parse}).
     *
     * @throws IllegalArgumentException with the reason
     */
    public static Subnet parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("invalid subnet '" + text + "': expected CIDR notation like 10.0.0.0/24");
        }
        int address = Ipv4Address.parse(text.substring(0, slash));
        String prefix = text.substring(slash + 1);
        if (prefix.isEmpty() || prefix.length() > 2 || !prefix.chars().allMatch(Character::isDigit) || prefix.length() > 1 && prefix.charAt(0) == '0') {
            throw new IllegalArgumentException("invalid subnet '" + text + "': the prefix length after '/' must be a number like 24");
        }
        return new Subnet(address, Integer.parseInt(prefix));
    }

    public boolean contains(int candidate) {
        return (candidate & mask(prefixLength)) == address;
    }

    /** How many addresses the subnet spans, network and broadcast included. */
    public long size() {
        return 1L << (32 - prefixLength);
    }

    /** The address {@code offset} positions into the subnet (0 is the network address). */
    public int addressAt(long offset) {
        return address + (int) offset;
    }

    public long offsetOf(int member) {
        return Integer.toUnsignedLong(member - address);
    }

    public int broadcast() {
        return address | ~mask(prefixLength);
    }

    @Override
    public String toString() {
        return Ipv4Address.toString(address) + "/" + prefixLength;
    }

    private static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }
}
