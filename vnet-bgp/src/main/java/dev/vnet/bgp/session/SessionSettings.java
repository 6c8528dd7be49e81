package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.Capability;
import dev.vnet.bgp.wire.Open;

import java.util.ArrayList;
import java.util.List;

/**
 * What this speaker sends in its OPEN to one peer and what it expects back.
 *
 * @param holdTime          seconds; 0 (no keepalives, no hold timer) or 3..65535
 * @param remoteAs          the AS the peer must be in
 * @param routeRefresh      whether to advertise route refresh (RFC 2918)
 * @param extensionVersion  vnet's extension version to advertise (0: do not advertise the capability)
 * @param extraCapabilities further capabilities to advertise as they are (tests use them to play other speakers)
 */
public record SessionSettings(long localAs, int routerId, int holdTime, long remoteAs, boolean routeRefresh,
                              int extensionVersion, List<Capability> extraCapabilities) {
    public SessionSettings {
        if (holdTime != 0 && (holdTime < 3 || holdTime > 0xFFFF)) {
            throw new IllegalArgumentException("hold time is 0 or 3..65535 seconds: " + holdTime);
        }
        if (routerId == 0) {
            throw new IllegalArgumentException("the BGP identifier must not be 0");
        }
        extraCapabilities = List.copyOf(extraCapabilities);
    }

    public boolean internal() {
        return localAs == remoteAs;
    }

    public Open open() {
        List<Capability> capabilities = new ArrayList<>();
        capabilities.add(Capability.Multiprotocol.VPN_IPV4);
        if (routeRefresh) {
            capabilities.add(new Capability.RouteRefresh());
        }
        capabilities.add(new Capability.FourOctetAs(localAs));
        if (extensionVersion > 0) {
            capabilities.add(new Capability.VnetExtension(extensionVersion));
        }
        capabilities.addAll(extraCapabilities);
        return Open.of(localAs, holdTime, routerId, capabilities);
    }
}
