package dev.vnet.registry;

/**
 * A virtual network.
 *
 * @param id the network's number on the wire, 1 to 2^32-1 (held in a long because it is unsigned)
 */
public record Network(String name, long id, Subnet subnet) {
}
