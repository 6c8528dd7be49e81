package dev.vnet.gateway.hashing;

/**
 * Which fields of a packet name its flow for load balancing. Two packets with the same identity
 * fields hash alike and so reach the same backend.
 */
public enum FlowIdentity {
    /** Addresses, protocol and ports: every TCP/UDP connection is its own flow. The default. */
    FIVE_TUPLE,
    /** Addresses and protocol: all connections between two hosts over one protocol stay together. */
    THREE_TUPLE,
    /** Addresses only: everything between two hosts stays together (also fragments and ICMP). */
    TWO_TUPLE;

    public static final FlowIdentity DEFAULT = FIVE_TUPLE;
}
