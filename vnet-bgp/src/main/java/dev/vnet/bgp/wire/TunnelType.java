package dev.vnet.bgp.wire;

/**
 * Tunnel types of the Encapsulation extended community (RFC 9012 §4.1; IANA "BGP Tunnel Encapsulation
 * Attribute Tunnel Types").
 *
 * <p>{@link #VNP}, vnet's own encapsulation (a VNP header in UDP between host ports, see
 * {@code dev.vnet.wire.VnpHeader}), has no IANA value. The registry has no experimental or private
 * range: every value is First Come First Served, and assignments so far are below 32. vnet takes 0xFF56
 * (65366: the top 256 values, which sequential FCFS assignment reaches last; 0x56 is 'V'). A speaker that
 * does not know a tunnel type ignores the community (RFC 9012 §4.1, §8), so a route carrying it is still
 * usable elsewhere; should vnet's routes leave vnet, the value is to be registered FCFS.
 */
public final class TunnelType {
    public static final int L2TPV3 = 1;
    public static final int GRE = 2;
    public static final int IP_IN_IP = 7;
    public static final int VXLAN = 8;
    public static final int NVGRE = 9;
    public static final int MPLS = 10;
    public static final int MPLS_IN_GRE = 11;
    public static final int VXLAN_GPE = 12;
    public static final int MPLS_IN_UDP = 13;
    public static final int GENEVE = 19;
    /** vnet's VNP encapsulation; not IANA-assigned (see the class comment). */
    public static final int VNP = 0xFF56;

    private TunnelType() {
    }

    public static String name(int tunnelType) {
        return switch (tunnelType) {
            case L2TPV3 -> "L2TPv3";
            case GRE -> "GRE";
            case IP_IN_IP -> "IP-in-IP";
            case VXLAN -> "VXLAN";
            case NVGRE -> "NVGRE";
            case MPLS -> "MPLS";
            case MPLS_IN_GRE -> "MPLS-in-GRE";
            case VXLAN_GPE -> "VXLAN-GPE";
            case MPLS_IN_UDP -> "MPLS-in-UDP";
            case GENEVE -> "Geneve";
            case VNP -> "VNP";
            default -> Integer.toString(tunnelType);
        };
    }
}
