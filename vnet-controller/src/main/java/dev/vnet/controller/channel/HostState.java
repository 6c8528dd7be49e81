package dev.vnet.controller.channel;

import java.util.Map;
import java.util.Objects;

/**
 * What one host's agent should hold: the VMs that run on the host, and the routes of every virtual
 * network that has at least one VM on the host (all the VMs of those networks, the host's own included).
 *
 * <p>Both maps are immutable. They are taken with {@link Map#copyOf}, which keeps a map that is already
 * immutable as it is: a source can hand many hosts the same routes map, and then the channel stores it
 * once and compares it by identity first (see {@link HostStateDiff}).
 */
public record HostState(String host, Map<String, VmAttachment> attachmentsByVmId, Map<RouteKey, Route> routes) {
    public HostState {
        Objects.requireNonNull(host, "host");
        attachmentsByVmId = Map.copyOf(attachmentsByVmId);
        routes = Map.copyOf(routes);
    }

    /** A host with nothing on it: what a freshly started agent holds. */
    public static HostState empty(String host) {
        return new HostState(host, Map.of(), Map.of());
    }

    public boolean isEmpty() {
        return attachmentsByVmId.isEmpty() && routes.isEmpty();
    }

    @Override
    public String toString() {
        return "HostState[" + host + ": " + attachmentsByVmId.size() + " VMs, " + routes.size() + " routes]";
    }
}
