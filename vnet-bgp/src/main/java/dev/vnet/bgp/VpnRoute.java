package dev.vnet.bgp;

import dev.vnet.bgp.rib.VpnPrefix;
import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.RouteDistinguisher;
import dev.vnet.bgp.wire.VpnNlriList;
import dev.vnet.wire.Ipv4Address;

import java.util.List;

/**
 * A VPN-IPv4 route as vnet uses it: a VM subnet or address of one virtual network on one host.
 *
 * @param rd          per (virtual network, host): {@link RouteDistinguisher#forHost}
 * @param prefix      the IPv4 prefix in the virtual network
 * @param label       the network's identity in the data plane, carried as a 20-bit MPLS label (RFC 8277:
 *                    one label stack entry, bottom of stack set); so network ids up to 1,048,575
 * @param nextHop     the host's underlay IPv4 address: the tunnel endpoint
 * @param communities the network's route target ({@link ExtendedCommunity#routeTargetForNetwork}) and the
 *                    Encapsulation community naming the tunnel type ({@link dev.vnet.bgp.wire.TunnelType})
 * @param attributes  the full path attributes of a route learned from a peer (AS_PATH, LOCAL_PREF,
 *                    ORIGINATOR_ID, ...), or null for one to originate
 */
public record VpnRoute(RouteDistinguisher rd, Ipv4Prefix prefix, int label, int nextHop, List<ExtendedCommunity> communities,
                       PathAttributes attributes) {
    public VpnRoute {
        if (label < 0 || label > VpnNlriList.MAX_LABEL) {
            throw new IllegalArgumentException("label is 20 bits (0.." + VpnNlriList.MAX_LABEL + "): " + label);
        }
        communities = List.copyOf(communities);
    }

    public VpnRoute(RouteDistinguisher rd, Ipv4Prefix prefix, int label, int nextHop, List<ExtendedCommunity> communities) {
        this(rd, prefix, label, nextHop, communities, null);
    }

    public VpnPrefix key() {
        return VpnPrefix.of(rd, prefix);
    }

    public List<ExtendedCommunity> routeTargets() {
        return communities.stream().filter(ExtendedCommunity::isRouteTarget).toList();
    }

    /** Tunnel types of the Encapsulation communities, in order. */
    public List<Integer> tunnelTypes() {
        return communities.stream().filter(ExtendedCommunity::isEncapsulation).map(ExtendedCommunity::tunnelType).toList();
    }

    /** The same route without the learned attributes (what equality between two speakers' views should compare). */
    public VpnRoute withoutAttributes() {
        return attributes == null ? this : new VpnRoute(rd, prefix, label, nextHop, communities, null);
    }

    @Override
    public String toString() {
        return rd + ":" + prefix + " label " + label + " via " + Ipv4Address.toString(nextHop) + " " + communities;
    }
}
