package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.PathAttributes;

/**
 * One route to a {@link VpnPrefix} from one source: the label stack entry from its NLRI and the
 * attributes it shares with the other routes of its UPDATE. The same object sits in its source's
 * Adj-RIB-In and among the Loc-RIB's candidates for the prefix, which chain through {@link #next}
 * (owned by {@link LocRib}), so a route costs one object beyond its key.
 */
public final class Path {
    private final VpnPrefix prefix;
    private final int labelEntry;
    private final PathAttributes attributes;
    private final RouteSource source;
    Path next;

    public Path(VpnPrefix prefix, int labelEntry, PathAttributes attributes, RouteSource source) {
        this.prefix = prefix;
        this.labelEntry = labelEntry;
        this.attributes = attributes;
        this.source = source;
    }

    public VpnPrefix prefix() {
        return prefix;
    }

    /** The 3-octet label stack entry (label in the top 20 bits). */
    public int labelEntry() {
        return labelEntry;
    }

    public int label() {
        return labelEntry >>> 4;
    }

    public PathAttributes attributes() {
        return attributes;
    }

    public RouteSource source() {
        return source;
    }

    @Override
    public String toString() {
        return prefix + " label " + label() + " from " + source + " " + attributes;
    }
}
