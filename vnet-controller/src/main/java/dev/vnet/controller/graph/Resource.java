package dev.vnet.controller.graph;

import java.util.List;
import java.util.Map;

/**
 * A read-only view of one node for callers outside the graph (the API, the CLI, tests).
 *
 * @param attributes what the node allocated or was given, by kind: a network's {@code network_id}, a
 *                   subnet's {@code cidr}, a port's {@code ip_address} and {@code mac_address}, a VM's
 *                   {@code host_port}, a host's {@code address} and
 *                   {@code location} (absent when it has none)
 * @param uses       ids of the nodes this one uses (a VM: its host and ports)
 * @param usedBy     ids of the nodes that use this one
 */
public record Resource(String id, Kind kind, String name, String ownerId, Map<String, Object> attributes,
                       List<String> uses, List<String> usedBy) {
    public Resource {
        attributes = Map.copyOf(attributes);
        uses = List.copyOf(uses);
        usedBy = List.copyOf(usedBy);
    }
}
