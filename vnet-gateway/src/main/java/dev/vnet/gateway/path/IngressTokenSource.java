package dev.vnet.gateway.path;

import java.util.concurrent.CompletableFuture;

/**
 * Where a gateway gets the token that lets an outside address's packets into a VM (the registry's
 * ingress token: keyed with the VM's key over the gateway's underlay address and port, the outside
 * source and the VM). Fails with {@link IngressRefusedException} when the registry refuses.
 */
public interface IngressTokenSource {
    CompletableFuture<IngressGrant> request(long networkId, int source, int destination);

    /** Where the VM's host receives for it, the token and its expiry (Unix seconds). */
    record IngressGrant(int hostAddress, int port, long token, long expiry) {
    }

    /** The registry answered, and the answer is no. */
    final class IngressRefusedException extends RuntimeException {
        public IngressRefusedException(String message) {
            super(message);
        }
    }
}
