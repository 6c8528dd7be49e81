package dev.vnet.bgp;

/**
 * Told of every change of a destination's best path in the Loc-RIB: what a controller node pushes to
 * its agents. Called on the speaker's event loop, one destination at a time, in the order the changes
 * happened: do not block in it.
 */
@FunctionalInterface
public interface BestPathListener {
    /** @param previous the old best route, or null for a new destination; @param current the new best, or null when it is gone */
    void bestPathChanged(VpnRoute previous, VpnRoute current);
}
