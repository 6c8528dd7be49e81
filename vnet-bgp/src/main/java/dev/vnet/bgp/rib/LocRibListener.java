package dev.vnet.bgp.rib;

/** Told of every change of a destination's best path in the {@link LocRib}. */
@FunctionalInterface
public interface LocRibListener {
    /** @param previous the old best path, or null; @param current the new one, or null when the destination is gone */
    void bestPathChanged(VpnPrefix prefix, Path previous, Path current);
}
