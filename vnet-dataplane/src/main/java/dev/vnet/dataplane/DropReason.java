package dev.vnet.dataplane;

/** Why the data plane dropped a packet; each reason is its own counter {@code drop.<label>}. */
public enum DropReason {
    /** Shorter than an Ethernet header. */
    MALFORMED_FRAME("malformed-frame"),
    /** IPv4 header with a bad version, header length or total length. */
    MALFORMED_IPV4("malformed-ipv4"),
    /** ARP that is not Ethernet/IPv4 or is too short. */
    MALFORMED_ARP("malformed-arp"),
    /** ARP replies and other ARP operations from a VM: the agent answers ARP itself. */
    ARP_NOT_REQUEST("arp-not-request"),
    /** ARP request for an address that no VM of the sender's network has. */
    ARP_UNKNOWN_TARGET("arp-unknown-target"),
    /** Ether types the virtual network does not carry yet (IPv6, VLAN tags, ...). */
    UNSUPPORTED_ETHER_TYPE("unsupported-ether-type"),
    /** A source MAC or IPv4 address that is not the sending VM's own. */
    SPOOFED_SOURCE("spoofed-source"),
    /** Broadcast or multicast other than ARP: nothing floods. */
    BROADCAST_NOT_FORWARDED("broadcast-not-forwarded"),
    /** No VM of this virtual network has the destination MAC. */
    UNKNOWN_DESTINATION("unknown-destination"),
    /** A frame addressed back to the port it came from. */
    HAIRPIN("hairpin"),
    /** A frame that would not fit in one underlay datagram. */
    TOO_BIG("too-big"),
    /** An underlay datagram whose vnet header is truncated, of another version or malformed. */
    MALFORMED_ENCAPSULATION("malformed-encapsulation"),
    /** An underlay datagram for a virtual network this host does not serve. */
    UNKNOWN_NETWORK("unknown-network"),
    /** An underlay datagram whose destination VM is here but on another virtual network. */
    WRONG_NETWORK("wrong-network"),
    /** An underlay datagram for a VM that lives on another host (no bouncing). */
    NOT_LOCAL("not-local"),
    /** The kernel refused to send the datagram on the underlay. */
    UNDERLAY_SEND_FAILED("underlay-send-failed"),
    /** The kernel refused to write the frame to the destination TAP. */
    PORT_WRITE_FAILED("port-write-failed");

    private final String label;

    DropReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public String counterName() {
        return "drop." + label;
    }
}
