package dev.vnet.controller.channel;

import java.util.List;

/**
 * The answer of {@link HostStatePublisher#awaitApplied}: whether every host waited for has applied the
 * version, and if not, which have not (connected or not), sorted by name.
 */
public record SyncStatus(boolean complete, List<String> pendingHosts) {
    public SyncStatus {
        pendingHosts = List.copyOf(pendingHosts);
        if (complete != pendingHosts.isEmpty()) {
            throw new IllegalArgumentException("complete means no host is pending; got complete=" + complete + " with " + pendingHosts);
        }
    }
}
