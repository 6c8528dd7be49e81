package dev.vnet.gateway.hashing;

/**
 * A selected mapping and its parameter: points per backend (M) for {@link MappingKind#SEED}, the
 * prime table size for {@link MappingKind#MAGLEV}; plus the hash seed every gateway of a load
 * balancer must share so that they map flows alike.
 *
 * <p>The default is Maglev with 65,537 slots: in the mapping benchmark it is the one that meets the
 * balance goal (slot shares within ~1 % of the mean up to 1,000 backends) at one array read per
 * lookup, while the seed table needs M in the thousands for that balance and a binary search over
 * N·M points per lookup. The seed table stays selectable; it is the one with exactly-minimal
 * movement on a health change.
 */
public record MappingSpec(MappingKind kind, int parameter, long seed) {
    public static final MappingSpec DEFAULT = maglev(MaglevTable.DEFAULT_SIZE);

    public MappingSpec {
        if (kind == null) throw new IllegalArgumentException("kind is required");
        if (kind == MappingKind.SEED && parameter < 1) throw new IllegalArgumentException("M must be ≥ 1: " + parameter);
        if (kind == MappingKind.MAGLEV && !MaglevTable.isPrime(parameter)) {
            throw new IllegalArgumentException("Maglev table size must be prime: " + parameter);
        }
    }

    public static MappingSpec seed(int pointsPerBackend) {
        return new MappingSpec(MappingKind.SEED, pointsPerBackend, FlowHash.DEFAULT_SEED);
    }

    public static MappingSpec maglev(int tableSize) {
        return new MappingSpec(MappingKind.MAGLEV, tableSize, FlowHash.DEFAULT_SEED);
    }

    public MappingSpec withSeed(long newSeed) {
        return new MappingSpec(kind, parameter, newSeed);
    }

    /** The mapping for these backends (stable ids, in index order) and their usable flags. */
    public ConsistentMapping build(long[] backendIds, boolean[] usable) {
        return switch (kind) {
            case SEED -> SeedHashTable.build(backendIds, usable, parameter, seed);
            case MAGLEV -> MaglevTable.build(backendIds, usable, parameter, seed);
        };
    }

    @Override
    public String toString() {
        return kind == MappingKind.SEED ? "seed M=" + parameter : "maglev " + parameter;
    }
}
