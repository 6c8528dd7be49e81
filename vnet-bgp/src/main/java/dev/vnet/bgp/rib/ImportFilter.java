package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.PathAttributes;

import java.util.Set;

/**
 * Decides which routes from peers enter the Loc-RIB (RFC 4364 §4.3.5: a PE imports a VPN route into a
 * VRF when one of the route's route targets is among the VRF's import targets). Routes it refuses stay
 * in their Adj-RIB-In, so a changed filter can be applied again without asking peers to resend. A route
 * reflector must accept everything: it only reflects what is in its Loc-RIB.
 */
@FunctionalInterface
public interface ImportFilter {
    ImportFilter ALL = (prefix, attributes) -> true;

    boolean accepts(VpnPrefix prefix, PathAttributes attributes);

    /** Accepts routes carrying at least one of these route targets. */
    static ImportFilter routeTargets(Set<ExtendedCommunity> importTargets) {
        long[] targets = importTargets.stream().mapToLong(ExtendedCommunity::value).toArray();
        return (prefix, attributes) -> {
            for (long target : targets) {
                if (attributes.hasExtendedCommunity(target)) {
                    return true;
                }
            }
            return false;
        };
    }
}
