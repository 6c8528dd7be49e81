package dev.vnet.bgp;

import dev.vnet.bgp.wire.Capability;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One configured neighbour. Incoming connections are matched to it by the remote IP address alone (the
 * port of a connection a peer opens is ephemeral), so two peers of one speaker need two addresses;
 * speakers on one machine use several loopback addresses (127.0.0.2, 127.0.0.3, ...).
 *
 * @param address              where the peer listens (port 179 or any other)
 * @param remoteAs             the peer's AS: equal to ours for an internal (iBGP) session
 * @param routeReflectorClient this speaker reflects routes to and from the peer (RFC 4456)
 * @param passive              never connect to the peer, only accept its connections
 * @param extraCapabilities    further capabilities to advertise to this peer as they are (tests use
 *                             them to play a speaker that knows capabilities we do not)
 */
public record PeerConfig(InetSocketAddress address, long remoteAs, boolean routeReflectorClient, boolean passive,
                         List<Capability> extraCapabilities) {
    public PeerConfig {
        extraCapabilities = List.copyOf(extraCapabilities);
    }

    public static PeerConfig of(InetSocketAddress address, long remoteAs) {
        return new PeerConfig(address, remoteAs, false, false, List.of());
    }

    public PeerConfig asReflectorClient() {
        return new PeerConfig(address, remoteAs, true, passive, extraCapabilities);
    }

    public PeerConfig asPassive() {
        return new PeerConfig(address, remoteAs, routeReflectorClient, true, extraCapabilities);
    }

    public PeerConfig withExtraCapabilities(List<Capability> capabilities) {
        return new PeerConfig(address, remoteAs, routeReflectorClient, passive, capabilities);
    }
}
