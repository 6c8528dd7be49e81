package dev.vnet.cli;

import dev.vnet.dataplane.TokenGrant;
import dev.vnet.dataplane.TokenRefusedException;
import dev.vnet.dataplane.TokenSource;
import dev.vnet.registry.RegistryException;
import dev.vnet.registry.client.RegistryClient;
import io.grpc.Status;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The data plane's {@link TokenSource} backed by the registry. A refusal (the registry answered no:
 * policy, unknown destination, not this host's VM) becomes {@link TokenRefusedException}; anything else
 * (unreachable, deadline, TLS) stays a plain failure, which the data plane counts as the registry being
 * unavailable and retries sooner.
 */
final class RegistryTokenSource implements TokenSource {
    private final RegistryClient client;

    RegistryTokenSource(RegistryClient client) {
        this.client = client;
    }

    @Override
    public CompletableFuture<TokenGrant> request(String sourceVm, int destinationAddress) {
        return client.requestToken(sourceVm, destinationAddress)
                .handle((grant, failure) -> {
                    if (failure == null) {
                        return new TokenGrant(grant.destinationHost(), grant.destinationPort(), grant.token(), grant.expiry());
                    }
                    throw failureOf(failure, TokenRefusedException::new);
                });
    }

    /**
     * What a failed registry call becomes: a refusal ({@link #isRefusal}) the exception {@code refused}
     * makes from the registry's reason; anything else the cause itself, so callers can tell "no" from
     * "could not ask".
     */
    static RuntimeException failureOf(Throwable failure, java.util.function.Function<String, RuntimeException> refused) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof RegistryException registry && isRefusal(registry.code())) {
            return refused.apply(registry.description());
        }
        return cause instanceof RuntimeException runtime ? runtime : new CompletionException(cause);
    }

    static boolean isRefusal(Status.Code code) {
        return code == Status.Code.PERMISSION_DENIED || code == Status.Code.NOT_FOUND || code == Status.Code.INVALID_ARGUMENT;
    }
}
