package dev.vnet.bgp.wire;

import dev.vnet.wire.Ipv4Address;

/**
 * A route distinguisher (RFC 4364 §4.2): 8 octets, a 2-octet type then an administrator and an
 * assigned number whose sizes the type gives. Kept as the 8 octets in wire order in one {@code long},
 * so it costs nothing to carry in NLRI arrays and compares by value.
 *
 * <pre>
 *  type 0:  | 0x0000 | AS (2 octets)          | assigned number (4 octets) |
 *  type 1:  | 0x0001 | IPv4 address (4 octets)| assigned number (2 octets) |
 *  type 2:  | 0x0002 | AS (4 octets)          | assigned number (2 octets) |
 * </pre>
 *
 * vnet's routes use type 1 per (virtual network, host): the host's underlay address and a number the
 * controller assigns to the network on that host ({@link #forHost}); the RD only keeps two hosts' routes
 * to the same prefix apart, the route target says which network a route belongs to.
 */
public record RouteDistinguisher(long value) implements Comparable<RouteDistinguisher> {
    public static final int LENGTH = 8;
    public static final int TYPE_AS2 = 0;
    public static final int TYPE_IPV4 = 1;
    public static final int TYPE_AS4 = 2;

    public static RouteDistinguisher as2(int as, long assigned) {
        if (as < 0 || as > 0xFFFF || assigned < 0 || assigned > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("type 0 RD needs a 2-octet AS and a 4-octet number: " + as + ":" + assigned);
        }
        return new RouteDistinguisher((long) TYPE_AS2 << 48 | (long) as << 32 | assigned);
    }

    public static RouteDistinguisher ipv4(int address, int assigned) {
        if (assigned < 0 || assigned > 0xFFFF) {
            throw new IllegalArgumentException("type 1 RD needs a 2-octet number: " + assigned);
        }
        return new RouteDistinguisher((long) TYPE_IPV4 << 48 | (address & 0xFFFF_FFFFL) << 16 | assigned);
    }

    public static RouteDistinguisher as4(long as, int assigned) {
        if (as < 0 || as > 0xFFFF_FFFFL || assigned < 0 || assigned > 0xFFFF) {
            throw new IllegalArgumentException("type 2 RD needs a 4-octet AS and a 2-octet number: " + as + ":" + assigned);
        }
        return new RouteDistinguisher((long) TYPE_AS4 << 48 | as << 16 | assigned);
    }

    /** vnet's RD for one virtual network on one host: type 1, the host's underlay address : the network's number on that host. */
    public static RouteDistinguisher forHost(int hostUnderlayAddress, int networkNumberOnHost) {
        return ipv4(hostUnderlayAddress, networkNumberOnHost);
    }

    /**
     * Parses {@code ADMIN:NUMBER}: an IPv4 administrator gives type 1, an AS up to 65535 type 0, a larger
     * AS type 2 (the usual reading; write an AS below 65536 with a type-2 RD with {@link #as4}).
     */
    public static RouteDistinguisher parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("not a route distinguisher (ADMIN:NUMBER): " + text);
        }
        String admin = text.substring(0, colon);
        long number = Long.parseLong(text.substring(colon + 1));
        if (admin.indexOf('.') >= 0) {
            return ipv4(Ipv4Address.parse(admin), Math.toIntExact(number));
        }
        long as = Long.parseLong(admin);
        return as <= 0xFFFF ? as2((int) as, number) : as4(as, Math.toIntExact(number));
    }

    public int type() {
        return (int) (value >>> 48);
    }

    @Override
    public int compareTo(RouteDistinguisher other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return switch (type()) {
            case TYPE_AS2 -> ((value >>> 32) & 0xFFFF) + ":" + (value & 0xFFFF_FFFFL);
            case TYPE_IPV4 -> Ipv4Address.toString((int) (value >>> 16)) + ":" + (value & 0xFFFF);
            case TYPE_AS4 -> ((value >>> 16) & 0xFFFF_FFFFL) + ":" + (value & 0xFFFF);
            default -> String.format("type%d:%012x", type(), value & 0xFFFF_FFFF_FFFFL);
        };
    }
}
