package dev.vnet.dataplane;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * A local VM's pairs by destination address. Readers (every packet) see an immutable map through one
 * volatile read; a new pair copies the map (rare: once per destination). The number of pairs is
 * bounded so that a VM sweeping addresses cannot grow the agent without limit.
 */
final class VnpTable {
    static final int MAX_PAIRS = 4096;

    private volatile Int2ObjectHashMap<Vnp> pairs = new Int2ObjectHashMap<>();

    Vnp get(int destination) {
        return pairs.get(destination);
    }

    /** The pair for {@code destination}, created if needed; null when the table is full. */
    synchronized Vnp getOrCreate(int destination) {
        Vnp existing = pairs.get(destination);
        if (existing != null) {
            return existing;
        }
        if (pairs.size() >= MAX_PAIRS) {
            return null;
        }
        Int2ObjectHashMap<Vnp> copy = new Int2ObjectHashMap<>(pairs);
        Vnp created = new Vnp(destination);
        copy.put(destination, created);
        pairs = copy;
        return created;
    }
}
