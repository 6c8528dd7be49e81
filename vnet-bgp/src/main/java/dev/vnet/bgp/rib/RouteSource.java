package dev.vnet.bgp.rib;

import dev.vnet.wire.Ipv4Address;

/**
 * Where a path came from: this speaker, or one Established session with a peer (a new source per
 * session, so paths of an old session are never mistaken for the new one's). Carries what best-path
 * selection and the export rules need to know about it.
 */
public final class RouteSource {
    public enum Kind { LOCAL, INTERNAL, EXTERNAL }

    private final Kind kind;
    private final long peerAs;
    private final int peerAddress;
    private final int routerId;
    private final boolean routeReflectorClient;

    public RouteSource(Kind kind, long peerAs, int peerAddress, int routerId, boolean routeReflectorClient) {
        this.kind = kind;
        this.peerAs = peerAs;
        this.peerAddress = peerAddress;
        this.routerId = routerId;
        this.routeReflectorClient = routeReflectorClient;
    }

    public Kind kind() {
        return kind;
    }

    public boolean isLocal() {
        return kind == Kind.LOCAL;
    }

    public boolean isExternal() {
        return kind == Kind.EXTERNAL;
    }

    public boolean isInternal() {
        return kind == Kind.INTERNAL;
    }

    public long peerAs() {
        return peerAs;
    }

    /** The peer's IPv4 address (0 for local routes), the last tie-breaker. */
    public int peerAddress() {
        return peerAddress;
    }

    /** The peer's BGP identifier, or this speaker's for local routes. */
    public int routerId() {
        return routerId;
    }

    /** The peer is a route reflector client of this speaker (RFC 4456). */
    public boolean routeReflectorClient() {
        return routeReflectorClient;
    }

    @Override
    public String toString() {
        return kind == Kind.LOCAL ? "local" : kind.name().toLowerCase(java.util.Locale.ROOT) + " peer " + Ipv4Address.toString(peerAddress);
    }
}
