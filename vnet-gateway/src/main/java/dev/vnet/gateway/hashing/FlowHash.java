package dev.vnet.gateway.hashing;

/**
 * The 64-bit hash of a flow, from the fields its {@link FlowIdentity} selects.
 *
 * <p>Algorithm: the identity's fields are packed into two (IPv4) or five (IPv6) longs, fields the
 * identity leaves out packed as zero, and those longs are hashed with XXH64 (Yann Collet's xxHash,
 * 64-bit variant) as if they were the little-endian bytes of the input: each long is one
 * {@code round} into the accumulator, then the XXH64 avalanche. XXH64 passes SMHasher, so nearby
 * inputs (consecutive ports, addresses in one subnet) spread over the whole 64-bit range, which
 * both mappings need: the seed table compares the hash with points on a ring, Maglev reduces it to
 * a slot. The seed lets gateways that must agree share one value and lets a test vary it.
 *
 * <p>Everything here is static arithmetic on primitives: hashing a packet allocates nothing.
 */
public final class FlowHash {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    /** The seed gateways use unless configured otherwise; any fixed value works if all agree. */
    public static final long DEFAULT_SEED = 0x766E65742D677721L;

    private FlowHash() {}

    /**
     * The hash of an IPv4 flow. Addresses are the 32-bit values in network order as ints, protocol
     * the IP protocol number, ports 0..65535 (ignored unless the identity is {@link
     * FlowIdentity#FIVE_TUPLE}).
     */
    public static long ipv4(FlowIdentity identity, long seed, int srcIp, int dstIp, int protocol, int srcPort, int dstPort) {
        long addresses = ((long) srcIp << 32) | (dstIp & 0xFFFF_FFFFL);
        long rest = switch (identity) {
            case FIVE_TUPLE -> ((long) (protocol & 0xFF) << 32) | ((long) (srcPort & 0xFFFF) << 16) | (dstPort & 0xFFFF);
            case THREE_TUPLE -> (long) (protocol & 0xFF) << 32;
            case TWO_TUPLE -> 0L;
        };
        long h = seed + P5 + 16;
        h = mixIn(h, addresses);
        h = mixIn(h, rest);
        return avalanche(h);
    }

    /** {@link #ipv4} with the default identity and seed. */
    public static long ipv4(int srcIp, int dstIp, int protocol, int srcPort, int dstPort) {
        return ipv4(FlowIdentity.DEFAULT, DEFAULT_SEED, srcIp, dstIp, protocol, srcPort, dstPort);
    }

    /** The hash of an IPv6 flow; each address as its high and low 64 bits. */
    public static long ipv6(FlowIdentity identity, long seed, long srcHi, long srcLo, long dstHi, long dstLo,
                            int protocol, int srcPort, int dstPort) {
        long rest = switch (identity) {
            case FIVE_TUPLE -> ((long) (protocol & 0xFF) << 32) | ((long) (srcPort & 0xFFFF) << 16) | (dstPort & 0xFFFF);
            case THREE_TUPLE -> (long) (protocol & 0xFF) << 32;
            case TWO_TUPLE -> 0L;
        };
        long h = seed + P5 + 40;
        h = mixIn(h, srcHi);
        h = mixIn(h, srcLo);
        h = mixIn(h, dstHi);
        h = mixIn(h, dstLo);
        h = mixIn(h, rest);
        return avalanche(h);
    }

    /**
     * The hash of a backend id with a point number: the seed's "hashing a concatenation of the
     * backend's IP address with different integer values (e.g., 1, 2, 3, 4, and 5)". Also the two
     * Maglev permutation hashes (point numbers 0 with different seeds).
     */
    public static long backendPoint(long seed, long backendId, int point) {
        long h = seed + P5 + 16;
        h = mixIn(h, backendId);
        h = mixIn(h, point);
        return avalanche(h);
    }

    private static long mixIn(long h, long lane) {
        h ^= round(lane);
        return Long.rotateLeft(h, 27) * P1 + P4;
    }

    private static long round(long lane) {
        return Long.rotateLeft(lane * P2, 31) * P1;
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }
}
