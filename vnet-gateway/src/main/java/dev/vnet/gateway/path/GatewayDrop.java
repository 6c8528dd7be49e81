package dev.vnet.gateway.path;

/** Why a gateway dropped a packet; each reason has its own counter. */
public enum GatewayDrop {
    /** From the public side: not an IPv4 packet, or its header lies about its lengths. */
    MALFORMED_PUBLIC,
    /** From the public side: to an address this gateway serves, but a protocol or port no listener has. */
    NO_LISTENER,
    /** From the public side: to an address this gateway does not serve. */
    UNKNOWN_DESTINATION,
    /** A fragment or an L4 header too short for the ports a flow is identified by. */
    NO_PORTS,
    /** Every backend of the VIP is unhealthy. */
    NO_HEALTHY_BACKEND,
    /** From the underlay: not a well-formed VNP datagram with an IPv4 packet inside. */
    MALFORMED_ENCAPSULATION,
    /** From the underlay: the token's expiry has passed (beyond the allowed clock skew). */
    TOKEN_EXPIRED,
    /** From the underlay: the expiry lies further ahead than any token the registry issues. */
    EXPIRY_TOO_FAR,
    /** From the underlay: no network key of this gateway produces the token. */
    BAD_TOKEN,
    /**
     * From the underlay: a packet from an unchanged-mode VIP whose sender (host, port) is not a VM this
     * gateway knows as a backend of that VIP.
     */
    NOT_A_BACKEND,
    /** From the underlay: a VM sent a packet to an address of its own network, or to a VIP/probe address. */
    NOT_OUTSIDE,
    /** A reply from the public side to the egress address with no translation for it. */
    NO_TRANSLATION,
    /** Egress: no public port left for a new translation. */
    TRANSLATIONS_EXHAUSTED,
    /** The registry refused a token for a backend (or it is not known to it). */
    TOKEN_REFUSED,
    /** The registry could not be reached for a token. */
    REGISTRY_UNAVAILABLE,
    /** Too many packets waiting for one token. */
    TOKEN_QUEUE_FULL,
    /** The encapsulated packet would exceed the underlay MTU. */
    TOO_BIG,
    /** The kernel refused a send or a write. */
    SEND_FAILED
}
