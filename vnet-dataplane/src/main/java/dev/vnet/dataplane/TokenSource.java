package dev.vnet.dataplane;

import java.util.concurrent.CompletableFuture;

/**
 * Where the agent gets VNP tokens: the VM registry in production, an in-memory authority in tests.
 * The data plane asks only on the first packet of a pair and ahead of expiry, never per packet.
 */
public interface TokenSource {
    /**
     * Asks for a token that lets {@code sourceVm} send to {@code destinationAddress} (IPv4, in the
     * source VM's network). Completes with a grant, or exceptionally with {@link TokenRefusedException}
     * when the registry said no, or with any other exception when it could not be asked.
     */
    CompletableFuture<TokenGrant> request(String sourceVm, int destinationAddress);
}
