package dev.vnet.dataplane;

/** Why the data plane dropped a packet; each reason is its own counter {@code drop.<label>}. */
public enum DropReason {
    // ---- frames from a VM ----
    /** Shorter than an Ethernet header. */
    MALFORMED_FRAME("malformed-frame"),
    /** IPv4 header with a bad version, header length or total length. */
    MALFORMED_IPV4("malformed-ipv4"),
    /** ARP that is not Ethernet/IPv4 or is too short. */
    MALFORMED_ARP("malformed-arp"),
    /** ARP replies and other ARP operations from a VM: the agent answers ARP itself. */
    ARP_NOT_REQUEST("arp-not-request"),
    /** ARP request for the VM's own address or one outside its subnet. */
    ARP_UNKNOWN_TARGET("arp-unknown-target"),
    /** Ether types the virtual network does not carry yet (IPv6, VLAN tags, ...). */
    UNSUPPORTED_ETHER_TYPE("unsupported-ether-type"),
    /** A source MAC or IPv4 address that is not the sending VM's own. */
    SPOOFED_SOURCE("spoofed-source"),
    /** Broadcast or multicast other than ARP: nothing floods. */
    BROADCAST_NOT_FORWARDED("broadcast-not-forwarded"),
    /** A packet addressed to the VM that sent it. */
    HAIRPIN("hairpin"),
    /** A packet that would not fit in one underlay datagram. */
    TOO_BIG("too-big"),
    /** The registry refused a token for this pair (policy, no such destination); retried later. */
    TOKEN_REFUSED("token-refused"),
    /** No token yet and the registry could not be reached; the pair is retried. */
    REGISTRY_UNAVAILABLE("registry-unavailable"),
    /** No token yet and the pair's queue of waiting packets is full. */
    TOKEN_QUEUE_FULL("token-queue-full"),
    // ---- datagrams from the underlay ----
    /** A datagram whose VNP header or inner packet layout is malformed. */
    MALFORMED_ENCAPSULATION("malformed-encapsulation"),
    /** The token's expiry has passed (beyond the allowed clock skew). */
    TOKEN_EXPIRED("token-expired"),
    /** An expiry further ahead than any token the registry issues. */
    EXPIRY_TOO_FAR("expiry-too-far"),
    /** The inner destination is not the VM this port is reserved for. */
    WRONG_DESTINATION("wrong-destination"),
    /** The token does not match (forged, for another pair, or replayed from another host or port). */
    BAD_TOKEN("bad-token"),
    // ---- either direction ----
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
