package dev.vnet.gateway.hashing;

/**
 * Maps a flow's hash to one of a fixed list of backends so that a flow keeps its backend while the
 * healthy set stays the same, and few flows move when it changes. Implementations are immutable:
 * a change of the healthy set makes a new mapping ({@link #withUsable}), which a gateway swaps in.
 */
public interface ConsistentMapping {
    /** Returned by {@link #backendOf} when no backend is usable. */
    int NONE = -1;

    /**
     * The index, in the backend list the mapping was built from, of the backend for this flow
     * hash; {@link #NONE} when no backend is usable. Allocates nothing.
     */
    int backendOf(long flowHash);

    /** How many backends the mapping was built from, usable or not. */
    int backendCount();

    /** Whether the backend at this index may receive flows. */
    boolean isUsable(int backend);

    /**
     * The same backends with a new usable flag per backend (indexed like the backend list): the
     * recomputation after a change of the healthy set.
     */
    ConsistentMapping withUsable(boolean[] usable);

    /** The share of the hash space each backend receives (sums to 1, or all 0 when none usable). */
    double[] shares();
}
