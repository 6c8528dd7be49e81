package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.Open;

import java.util.List;

/**
 * What the two OPENs of a session agreed on.
 *
 * @param holdTime          seconds, the smaller of the two (0: no hold timer and no keepalives)
 * @param keepaliveTime     seconds, a third of the hold time (RFC 4271 §10)
 * @param fourOctetAs       both advertised 4-octet AS support (RFC 6793)
 * @param vpnIpv4           both advertised VPN-IPv4 (AFI 1, SAFI 128): routes are exchanged only then
 * @param routeRefresh      both advertised route refresh
 * @param extensionVersion  vnet's extension version in force: the smaller of the two when both
 *                          advertised the capability, else 0 (vnet's extensions off)
 * @param shared            names of the capabilities both advertised
 */
public record Negotiated(long remoteAs, int remoteRouterId, int holdTime, int keepaliveTime, boolean fourOctetAs,
                         boolean vpnIpv4, boolean routeRefresh, int extensionVersion, List<String> shared, Open remoteOpen) {
}
