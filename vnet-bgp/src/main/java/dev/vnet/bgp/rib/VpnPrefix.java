package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.RouteDistinguisher;

/** A VPN-IPv4 destination, the key of every RIB: route distinguisher and IPv4 prefix (RFC 4364 §4.1). */
public record VpnPrefix(long rd, int address, int length) {
    public static VpnPrefix of(RouteDistinguisher rd, Ipv4Prefix prefix) {
        return new VpnPrefix(rd.value(), prefix.address(), prefix.length());
    }

    public RouteDistinguisher routeDistinguisher() {
        return new RouteDistinguisher(rd);
    }

    public Ipv4Prefix prefix() {
        return new Ipv4Prefix(address, length);
    }

    @Override
    public String toString() {
        return routeDistinguisher() + ":" + prefix();
    }
}
