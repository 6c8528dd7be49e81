package dev.vnet.controller.channel.client;

import dev.vnet.controller.channel.HostState;
import dev.vnet.controller.channel.HostStateDiff;

/**
 * One update from the controller, as the agent should apply it.
 *
 * @param previous what the agent held before (after a restart: nothing)
 * @param current  what it holds once this change is applied
 * @param version  the controller's version of {@code current}; acknowledged once the listener returns
 * @param full     whether the controller sent its whole state (after connecting) rather than a delta;
 *                 either way {@code diff} is the exact difference from {@code previous} to {@code current},
 *                 so a resync that finds everything right is an empty diff
 * @param diff     what to change: attachments and routes added, removed (old values) and changed (new values)
 */
public record HostStateChange(HostState previous, HostState current, long version, boolean full, HostStateDiff diff) {
    /** Nothing to do but note the version. */
    public boolean isEmpty() {
        return diff.isEmpty();
    }
}
