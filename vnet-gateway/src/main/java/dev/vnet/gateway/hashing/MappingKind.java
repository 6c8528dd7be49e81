package dev.vnet.gateway.hashing;

/** The two consistent mappings a load-balancing gateway can use; see {@link MappingSpec}. */
public enum MappingKind {
    /** The seed's consistent hash table: M points per backend on a ring ({@link SeedHashTable}). */
    SEED,
    /** A Maglev lookup table of prime size ({@link MaglevTable}). */
    MAGLEV
}
