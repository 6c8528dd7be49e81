package dev.vnet.dataplane;

/**
 * Remembers tokens that already passed the HMAC check, so that a pair's later packets cost a hash
 * lookup instead of an HMAC (≈ 300 ns). Keyed by everything the token covers that varies per
 * sender: (source host, source port, source VM, token, expiry); the destination is fixed because each
 * receiving VM has its own cache, used by one thread only.
 *
 * <p>Direct-mapped: one slot per hash, a newer entry evicts an older one. Only successes are
 * cached, so a forged packet never makes a later forged packet cheaper; an evicted entry only costs
 * one more HMAC. Expiry is checked by the caller before the cache, so a cached token never outlives it.
 */
final class ValidationCache {
    private static final long VALID = 1L << 62;
    private final long[] addresses;
    private final long[] tokens;
    private final long[] portsAndExpiries;
    private final int mask;

    ValidationCache(int slotsPowerOfTwo) {
        if (Integer.bitCount(slotsPowerOfTwo) != 1) {
            throw new IllegalArgumentException("slots must be a power of two");
        }
        addresses = new long[slotsPowerOfTwo];
        tokens = new long[slotsPowerOfTwo];
        portsAndExpiries = new long[slotsPowerOfTwo];
        mask = slotsPowerOfTwo - 1;
    }

    boolean contains(int sourceHost, int sourcePort, int sourceVm, long token, long expiry) {
        long addressPair = addressPair(sourceHost, sourceVm);
        int slot = slot(addressPair, token);
        return portsAndExpiries[slot] == portAndExpiry(sourcePort, expiry)
                && tokens[slot] == token && addresses[slot] == addressPair;
    }

    void put(int sourceHost, int sourcePort, int sourceVm, long token, long expiry) {
        long addressPair = addressPair(sourceHost, sourceVm);
        int slot = slot(addressPair, token);
        addresses[slot] = addressPair;
        tokens[slot] = token;
        portsAndExpiries[slot] = portAndExpiry(sourcePort, expiry);
    }

    private static long addressPair(int sourceHost, int sourceVm) {
        return ((long) sourceHost << 32) | (sourceVm & 0xFFFF_FFFFL);
    }

    private static long portAndExpiry(int port, long expiry) {
        return VALID | (expiry << 16) | (port & 0xFFFF);
    }

    private int slot(long addressPair, long token) {
        long h = (addressPair * 0x9E37_79B9_7F4A_7C15L) ^ token;
        h ^= h >>> 29;
        return (int) h & mask;
    }
}
