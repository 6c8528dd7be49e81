package dev.vnet.bgp.wire;

/** ROUTE-REFRESH (RFC 2918; subtype per RFC 7313): AFI (2), subtype (1), SAFI (1). */
public record RouteRefresh(int afi, int subtype, int safi) implements BgpMessage {
    public static final int BODY_LENGTH = 4;
    public static final RouteRefresh VPN_IPV4 = new RouteRefresh(Capability.Multiprotocol.AFI_IPV4, 0,
            Capability.Multiprotocol.SAFI_MPLS_VPN);

    @Override
    public int type() {
        return TYPE_ROUTE_REFRESH;
    }
}
