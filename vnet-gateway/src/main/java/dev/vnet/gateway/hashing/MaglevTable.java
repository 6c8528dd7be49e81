package dev.vnet.gateway.hashing;

import java.util.Arrays;

/**
 * A Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, section 3.4).
 *
 * <p>Algorithm: the table has a prime number M of slots (default 65,537). Each usable backend b
 * gets a permutation of the slots from two hashes of its id: offset = h1(b) mod M and
 * skip = h2(b) mod (M − 1) + 1, its j-th preferred slot being (offset + j·skip) mod M; because M is
 * prime every skip reaches every slot. The table is filled round-robin: each backend in turn takes
 * its next preferred slot that is still empty, until all M are taken. So every usable backend gets
 * ⌊M/N⌋ or ⌈M/N⌉ slots (near-perfect balance), and because preferences are fixed per backend, a
 * change of the healthy set mostly leaves other backends' slots where they were (the paper's
 * "minimal disruption", not exact: a few slots change hands among the remaining backends).
 * Unusable backends take no part in the fill; a health change rebuilds the table.
 *
 * <p>Lookup is table[hash mod M], where the reduction is Lemire's multiply-shift on the hash's top
 * 32 bits ({@code (h >>> 32) * M >>> 32}): as uniform as a modulo for a well-mixed hash, without
 * a division on the per-packet path. One array read; allocates nothing.
 */
public final class MaglevTable implements ConsistentMapping {
    /** The paper's small table size; a prime, about 65 slots per backend at 1,000 backends. */
    public static final int DEFAULT_SIZE = 65_537;

    private static final long OFFSET_SEED_MIX = 0x4F46465345544D47L;
    private static final long SKIP_SEED_MIX = 0x534B49504D41474CL;

    private final long[] backendIds;
    private final boolean[] usable;
    private final long seed;
    private final int[] table;

    private MaglevTable(long[] backendIds, boolean[] usable, long seed, int size) {
        this.backendIds = backendIds;
        this.usable = usable;
        this.seed = seed;
        this.table = populate(backendIds, usable, seed, size);
    }

    /** The table for these backends with the given prime size, the permutations hashed with the seed. */
    public static MaglevTable build(long[] backendIds, boolean[] usable, int size, long seed) {
        if (size < 2 || !isPrime(size)) throw new IllegalArgumentException("Maglev table size must be a prime ≥ 2: " + size);
        SeedHashTable.checkSameLength(backendIds, usable);
        return new MaglevTable(backendIds.clone(), usable.clone(), seed, size);
    }

    public int size() {
        return table.length;
    }

    @Override
    public int backendOf(long flowHash) {
        int[] t = table;
        return t[(int) (((flowHash >>> 32) * t.length) >>> 32)];
    }

    @Override
    public int backendCount() {
        return backendIds.length;
    }

    @Override
    public boolean isUsable(int backend) {
        return usable[backend];
    }

    @Override
    public MaglevTable withUsable(boolean[] newUsable) {
        SeedHashTable.checkSameLength(backendIds, newUsable);
        return new MaglevTable(backendIds, newUsable.clone(), seed, table.length);
    }

    @Override
    public double[] shares() {
        double[] share = new double[backendIds.length];
        for (int b : table) {
            if (b != NONE) share[b] += 1.0 / table.length;
        }
        return share;
    }

    private static int[] populate(long[] ids, boolean[] usable, long seed, int size) {
        int[] table = new int[size];
        Arrays.fill(table, NONE);
        int n = 0;
        for (boolean u : usable) if (u) n++;
        if (n == 0) return table;
        int[] members = new int[n];
        long[] position = new long[n];
        long[] skip = new long[n];
        int m = 0;
        for (int b = 0; b < ids.length; b++) {
            if (!usable[b]) continue;
            members[m] = b;
            position[m] = Long.remainderUnsigned(FlowHash.backendPoint(seed ^ OFFSET_SEED_MIX, ids[b], 0), size);
            skip[m] = Long.remainderUnsigned(FlowHash.backendPoint(seed ^ SKIP_SEED_MIX, ids[b], 0), size - 1) + 1;
            m++;
        }
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                long c = position[i];
                while (table[(int) c] != NONE) {
                    c += skip[i];
                    if (c >= size) c -= size;
                }
                table[(int) c] = members[i];
                c += skip[i];
                if (c >= size) c -= size;
                position[i] = c;
                if (++filled == size) return table;
            }
        }
    }

    static boolean isPrime(int v) {
        if (v < 2) return false;
        if (v % 2 == 0) return v == 2;
        for (int d = 3; (long) d * d <= v; d += 2) if (v % d == 0) return false;
        return true;
    }

    @Override
    public String toString() {
        return "MaglevTable[backends=" + backendIds.length + ", size=" + table.length + "]";
    }
}
