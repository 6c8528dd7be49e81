package dev.vnet.bgp.rib;

/**
 * How this speaker stands towards one Established peer, for the export rules.
 *
 * @param source               the routes learned over the session come from this source
 * @param external             the peer is in another AS
 * @param routeReflectorClient this speaker reflects routes to and from the peer (RFC 4456)
 */
public record PeerRole(RouteSource source, boolean external, boolean routeReflectorClient) {
}
