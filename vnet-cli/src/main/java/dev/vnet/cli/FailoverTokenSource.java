package dev.vnet.cli;

import dev.vnet.dataplane.TokenGrant;
import dev.vnet.dataplane.TokenRefusedException;
import dev.vnet.dataplane.TokenSource;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Tokens from a cluster of controller nodes, any of which can issue them: requests go to the node that
 * answered last; when it cannot be reached the same request goes to the next node. A refusal is an
 * answer (the policy said no) and is not retried elsewhere.
 */
final class FailoverTokenSource implements TokenSource {
    private final List<TokenSource> nodes;
    private volatile int current;

    FailoverTokenSource(List<TokenSource> nodes) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no controller node to ask for tokens");
        }
        this.nodes = List.copyOf(nodes);
    }

    @Override
    public CompletableFuture<TokenGrant> request(String sourceVm, int destinationAddress) {
        return attempt(sourceVm, destinationAddress, current, nodes.size());
    }

    private CompletableFuture<TokenGrant> attempt(String sourceVm, int destinationAddress, int index, int triesLeft) {
        return nodes.get(index).request(sourceVm, destinationAddress).exceptionallyCompose(failure -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (cause instanceof TokenRefusedException || triesLeft <= 1) {
                return CompletableFuture.failedFuture(cause);
            }
            int next = (index + 1) % nodes.size();
            current = next;
            return attempt(sourceVm, destinationAddress, next, triesLeft - 1);
        });
    }
}
