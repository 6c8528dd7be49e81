package dev.vnet.controller;

import dev.vnet.controller.channel.SyncStatus;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Where the controller reports which hosts' state a change touched, and how it learns that they applied
 * it: the agent channel in the controller process, nothing in tests of the API alone.
 */
public interface HostChangeSink {
    /** The hosts' desired state changed at {@code version} (a config store revision; increasing). */
    void publish(long version, Set<String> hosts);

    /** The hosts were deleted: nothing waits for them any more. */
    default void forget(Set<String> hosts) {
    }

    /** Waits until every host changed at or below {@code version} has applied it, at most {@code timeout}. */
    SyncStatus awaitApplied(long version, Duration timeout);

    /** For a controller without agents: every change counts as applied at once. */
    HostChangeSink NONE = new HostChangeSink() {
        @Override
        public void publish(long version, Set<String> hosts) {
        }

        @Override
        public SyncStatus awaitApplied(long version, Duration timeout) {
            return new SyncStatus(true, List.of());
        }
    };
}
