package dev.vnet.gateway.path;

/**
 * Tokens from VMs that already passed the HMAC check, with the network whose key produced them, so a
 * flow's later packets cost a lookup, not an HMAC per network key. Keyed by everything a gateway
 * token covers: (source host, source port, inner source, inner destination, token, expiry). Unlike the
 * agent's cache the destination varies (any outside address), so it is part of the key.
 *
 * <p>Direct-mapped, successes only, one thread: a newer entry evicts an older one and a forged packet
 * never makes a later one cheaper. The caller checks the expiry first.
 */
final class ValidatedTokens {
    private final long[] hosts;
    private final long[] addresses;
    private final long[] tokens;
    private final long[] portsAndExpiries;
    private final int[] networks;
    private final int mask;

    ValidatedTokens(int slotsPowerOfTwo) {
        if (Integer.bitCount(slotsPowerOfTwo) != 1) {
            throw new IllegalArgumentException("slots must be a power of two");
        }
        hosts = new long[slotsPowerOfTwo];
        addresses = new long[slotsPowerOfTwo];
        tokens = new long[slotsPowerOfTwo];
        portsAndExpiries = new long[slotsPowerOfTwo];
        networks = new int[slotsPowerOfTwo];
        mask = slotsPowerOfTwo - 1;
    }

    /** The index (in the current {@link NetworkKeys}) of the network that produced this token, or -1. */
    int network(int sourceHost, int sourcePort, int source, int destination, long token, long expiry) {
        long pair = pair(source, destination);
        int slot = slot(pair, token, sourceHost);
        if (portsAndExpiries[slot] == portAndExpiry(sourcePort, expiry) && tokens[slot] == token
                && addresses[slot] == pair && hosts[slot] == sourceHost) {
            return networks[slot];
        }
        return -1;
    }

    void put(int sourceHost, int sourcePort, int source, int destination, long token, long expiry, int network) {
        long pair = pair(source, destination);
        int slot = slot(pair, token, sourceHost);
        hosts[slot] = sourceHost;
        addresses[slot] = pair;
        tokens[slot] = token;
        portsAndExpiries[slot] = portAndExpiry(sourcePort, expiry);
        networks[slot] = network;
    }

    /** Forgets everything: the network keys changed, so the indexes no longer mean the same. */
    void clear() {
        java.util.Arrays.fill(portsAndExpiries, 0);
    }

    private static long pair(int source, int destination) {
        return ((long) source << 32) | (destination & 0xFFFF_FFFFL);
    }

    private static long portAndExpiry(int port, long expiry) {
        return (1L << 62) | (expiry << 16) | (port & 0xFFFF);
    }

    private int slot(long pair, long token, int host) {
        long h = (pair * 0x9E37_79B9_7F4A_7C15L) ^ token ^ ((long) host * 0xC2B2_AE3D_27D4_EB4FL);
        h ^= h >>> 29;
        return (int) h & mask;
    }
}
