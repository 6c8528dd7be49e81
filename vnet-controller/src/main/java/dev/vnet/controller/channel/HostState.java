package dev.vnet.controller.channel;

import java.util.Map;
import java.util.Objects;

/**
 * What one host's agent should hold: the VMs that run on the host, and the routes of every virtual
 * network that has at least one VM on the host (all the VMs of those networks, the host's own included).
 *
 * <p>Both maps are immutable: a {@link LayeredMap} or a map made by {@link Map#copyOf} (or {@code Map.of})
 * is kept as it is, any other map is copied. So a source can hand many hosts the same routes map, which
 * the channel then stores once and compares by identity first (see {@link MapDiff#between}), and a
 * state that changes by a few routes at a time can be a layered copy of the previous one.
 */
public record HostState(String host, Map<String, VmAttachment> attachmentsByVmId, Map<RouteKey, Route> routes) {
    public HostState {
        Objects.requireNonNull(host, "host");
        attachmentsByVmId = immutable(attachmentsByVmId);
        routes = immutable(routes);
    }

    private static <K, V> Map<K, V> immutable(Map<K, V> map) {
        return map instanceof LayeredMap<K, V> ? map : Map.copyOf(map);
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
