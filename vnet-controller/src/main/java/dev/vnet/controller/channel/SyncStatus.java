package dev.vnet.controller.channel;

import java.util.List;

/** Whether every host a change affected has applied it; those that have not are named. */
public record SyncStatus(boolean complete, List<String> pendingHosts) {
    public SyncStatus {
        pendingHosts = List.copyOf(pendingHosts);
    }
}
