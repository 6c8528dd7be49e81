package dev.vnet.dataplane;

import dev.vnet.wire.VnpHeader;

import java.lang.foreign.MemorySegment;

/**
 * A token in use for one pair, with what sending needs precomputed: the destination's socket address,
 * and, for grants from the registry, the return token this host gives the destination in the pair's
 * first packets so it can answer without asking the registry.
 */
final class ActiveGrant {
    static final int RETURN_TOKEN_PACKETS = 3;
    static final long NO_RETURN_TOKEN = 0;

    final int hostAddress;
    final int port;
    final long token;
    final long expiry;
    final MemorySegment socketAddress;
    final long returnToken;
    /** When to ask for the next token; moved forward while a request is in flight (read and written racily: at worst one extra request). */
    long refreshAt;
    /** Decremented by senders without a lock: a race only sends one more or one fewer return token. */
    int returnTokensLeft;

    ActiveGrant(TokenGrant grant, MemorySegment socketAddress, long returnToken, long nowSeconds) {
        this.hostAddress = grant.hostAddress();
        this.port = grant.port();
        this.token = grant.token();
        this.expiry = grant.expiry();
        this.socketAddress = socketAddress;
        this.returnToken = returnToken;
        this.returnTokensLeft = returnToken == NO_RETURN_TOKEN ? 0 : RETURN_TOKEN_PACKETS;
        // Renew after 80 % of the remaining lifetime, so a long flow always has a fresh token in hand.
        this.refreshAt = expiry == VnpHeader.EXPIRY_NEVER ? Long.MAX_VALUE
                : nowSeconds + Math.max(1, (expiry - nowSeconds) * 4 / 5);
    }

    boolean usableAt(long nowSeconds) {
        return expiry == VnpHeader.EXPIRY_NEVER || nowSeconds < expiry;
    }

    boolean sameAs(int otherHost, int otherPort, long otherToken, long otherExpiry) {
        return hostAddress == otherHost && port == otherPort && token == otherToken && expiry == otherExpiry;
    }
}
