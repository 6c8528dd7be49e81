package dev.vnet.controller.graph;

/** The kinds of resource the controller models, and which kind owns each. */
public enum Kind {
    CLOUD(null), PROJECT(CLOUD), HOST(CLOUD), NETWORK(PROJECT), SUBNET(NETWORK), PORT(SUBNET), VM(PROJECT);

    private final Kind owner;

    Kind(Kind owner) {
        this.owner = owner;
    }

    /** The kind that owns resources of this kind (null for the root). */
    public Kind owner() {
        return owner;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
