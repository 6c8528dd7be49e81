package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpHeader;

/**
 * The answer to a token request (seed 003, FIG. 4, response 426): send the source VM's packets from its
 * port to {@code destinationHost:destinationPort} with {@code token} and {@code expiry} in the VNP header.
 *
 * @param destinationHost underlay IPv4 address ({@link Ipv4Address} int form)
 * @param expiry          Unix seconds, unsigned; {@link VnpHeader#EXPIRY_NEVER} never expires
 */
public record TokenGrant(int destinationHost, int destinationPort, long token, long expiry, Kind kind) {
    public enum Kind {
        /** To the destination VM's host and port. */
        VM,
        /** To the source network's gateway, because the destination is outside the network's subnet. */
        GATEWAY
    }

    @Override
    public String toString() {
        return "TokenGrant[" + kind + " " + Ipv4Address.toString(destinationHost) + ":" + destinationPort
                + " token=" + Long.toHexString(token) + " expiry=" + expiry + "]";
    }
}
