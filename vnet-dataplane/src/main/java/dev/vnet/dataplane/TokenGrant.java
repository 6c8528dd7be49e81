package dev.vnet.dataplane;

/**
 * What a token request returns: where the destination VM's host receives for that VM, the token, and
 * its expiry (Unix seconds; {@link dev.vnet.wire.VnpHeader#EXPIRY_NEVER} for never).
 */
public record TokenGrant(int hostAddress, int port, long token, long expiry) {
}
