package dev.vnet.bgp.wire;

import dev.vnet.wire.Ipv4Address;

/**
 * A BGP extended community (RFC 4360): 8 octets, kept in wire order in one {@code long}.
 *
 * <pre>
 *  | type (1) | sub-type (1) | value (6 octets)                                   |
 *  route target, 2-octet AS  (0x00, 0x02): AS (2)        | local administrator (4) |
 *  route target, IPv4        (0x01, 0x02): address (4)   | local administrator (2) |
 *  route target, 4-octet AS  (0x02, 0x02): AS (4)        | local administrator (2) |
 *  encapsulation (RFC 9012)  (0x03, 0x0c): reserved (4) = 0 | tunnel type (2)      |
 * </pre>
 *
 * Bit 0x40 of the type octet marks a non-transitive community; all the kinds above are transitive.
 * vnet gives each virtual network one route target, 2-octet AS specific: {@link #routeTargetForNetwork}.
 */
public record ExtendedCommunity(long value) {
    public static final int LENGTH = 8;
    public static final int TYPE_AS2 = 0x00;
    public static final int TYPE_IPV4 = 0x01;
    public static final int TYPE_AS4 = 0x02;
    public static final int TYPE_OPAQUE = 0x03;
    public static final int TYPE_NON_TRANSITIVE_BIT = 0x40;
    public static final int SUBTYPE_ROUTE_TARGET = 0x02;
    public static final int SUBTYPE_ENCAPSULATION = 0x0c;

    public static ExtendedCommunity routeTargetAs2(int as, long localAdministrator) {
        if (as < 0 || as > 0xFFFF || localAdministrator < 0 || localAdministrator > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("2-octet AS route target needs AS <= 65535 and a 4-octet number: " + as + ":" + localAdministrator);
        }
        return new ExtendedCommunity(header(TYPE_AS2, SUBTYPE_ROUTE_TARGET) | (long) as << 32 | localAdministrator);
    }

    public static ExtendedCommunity routeTargetIpv4(int address, int localAdministrator) {
        if (localAdministrator < 0 || localAdministrator > 0xFFFF) {
            throw new IllegalArgumentException("IPv4 route target needs a 2-octet number: " + localAdministrator);
        }
        return new ExtendedCommunity(header(TYPE_IPV4, SUBTYPE_ROUTE_TARGET) | (address & 0xFFFF_FFFFL) << 16 | localAdministrator);
    }

    public static ExtendedCommunity routeTargetAs4(long as, int localAdministrator) {
        if (as < 0 || as > 0xFFFF_FFFFL || localAdministrator < 0 || localAdministrator > 0xFFFF) {
            throw new IllegalArgumentException("4-octet AS route target needs a 2-octet number: " + as + ":" + localAdministrator);
        }
        return new ExtendedCommunity(header(TYPE_AS4, SUBTYPE_ROUTE_TARGET) | as << 16 | localAdministrator);
    }

    /**
     * vnet's route target for a virtual network: 2-octet AS specific, {@code as:networkId}. The network id
     * (up to 2^24 - 1) needs the 4-octet local administrator, so the AS must be a 2-octet one (vnet's
     * default private AS 64512 is).
     */
    public static ExtendedCommunity routeTargetForNetwork(int as, int networkId) {
        return routeTargetAs2(as, networkId & 0xFFFF_FFFFL);
    }

    /** The Encapsulation extended community (RFC 9012 §4.1) naming one tunnel type. */
    public static ExtendedCommunity encapsulation(int tunnelType) {
        if (tunnelType < 0 || tunnelType > 0xFFFF) {
            throw new IllegalArgumentException("tunnel type is 2 octets: " + tunnelType);
        }
        return new ExtendedCommunity(header(TYPE_OPAQUE, SUBTYPE_ENCAPSULATION) | tunnelType);
    }

    /** Parses {@code target:ADMIN:NUMBER} (type as for {@link RouteDistinguisher#parse}) or {@code encap:TYPE}. */
    public static ExtendedCommunity parse(String text) {
        if (text.startsWith("target:")) {
            String rest = text.substring("target:".length());
            int colon = rest.lastIndexOf(':');
            String admin = rest.substring(0, colon);
            long number = Long.parseLong(rest.substring(colon + 1));
            if (admin.indexOf('.') >= 0) {
                return routeTargetIpv4(Ipv4Address.parse(admin), Math.toIntExact(number));
            }
            long as = Long.parseLong(admin);
            return as <= 0xFFFF ? routeTargetAs2((int) as, number) : routeTargetAs4(as, Math.toIntExact(number));
        }
        if (text.startsWith("encap:")) {
            String type = text.substring("encap:".length());
            return encapsulation(switch (type.toUpperCase(java.util.Locale.ROOT)) {
                case "VXLAN" -> TunnelType.VXLAN;
                case "VNP" -> TunnelType.VNP;
                case "GENEVE" -> TunnelType.GENEVE;
                case "MPLS" -> TunnelType.MPLS;
                case "NVGRE" -> TunnelType.NVGRE;
                default -> Integer.parseInt(type);
            });
        }
        throw new IllegalArgumentException("not an extended community (target:ADMIN:N or encap:TYPE): " + text);
    }

    private static long header(int type, int subType) {
        return (long) type << 56 | (long) subType << 48;
    }

    public int type() {
        return (int) (value >>> 56) & 0xFF;
    }

    public int subType() {
        return (int) (value >>> 48) & 0xFF;
    }

    public boolean isTransitive() {
        return (type() & TYPE_NON_TRANSITIVE_BIT) == 0;
    }

    public boolean isRouteTarget() {
        int type = type();
        return subType() == SUBTYPE_ROUTE_TARGET && (type == TYPE_AS2 || type == TYPE_IPV4 || type == TYPE_AS4);
    }

    public boolean isEncapsulation() {
        return type() == TYPE_OPAQUE && subType() == SUBTYPE_ENCAPSULATION;
    }

    /** The tunnel type of an Encapsulation community. */
    public int tunnelType() {
        if (!isEncapsulation()) {
            throw new IllegalStateException(this + " is not an Encapsulation extended community");
        }
        return (int) (value & 0xFFFF);
    }

    @Override
    public String toString() {
        if (isRouteTarget()) {
            return switch (type()) {
                case TYPE_AS2 -> "target:" + ((value >>> 32) & 0xFFFF) + ":" + (value & 0xFFFF_FFFFL);
                case TYPE_IPV4 -> "target:" + Ipv4Address.toString((int) (value >>> 16)) + ":" + (value & 0xFFFF);
                default -> "target:" + ((value >>> 16) & 0xFFFF_FFFFL) + ":" + (value & 0xFFFF);
            };
        }
        if (isEncapsulation()) {
            return "encap:" + TunnelType.name(tunnelType());
        }
        return String.format("ext:%016x", value);
    }
}
