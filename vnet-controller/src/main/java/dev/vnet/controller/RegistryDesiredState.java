package dev.vnet.controller;

import dev.vnet.controller.channel.DesiredStateSource;
import dev.vnet.controller.channel.HostState;
import dev.vnet.controller.channel.Route;
import dev.vnet.controller.channel.RouteKey;
import dev.vnet.controller.channel.VmAttachment;
import dev.vnet.controller.graph.Resource;
import dev.vnet.controller.graph.ResourceGraph;
import dev.vnet.registry.Host;
import dev.vnet.registry.HostAssignments;
import dev.vnet.registry.RegistryException;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.Vm;
import dev.vnet.registry.VmAssignment;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A host's desired state as the registry holds it: the VMs placed on the host, with their keys, and a
 * route to every VM of each network those VMs are in. Names for display (the VM's and its project's)
 * come from the graph, since the registry knows a VM by its graph id.
 */
public final class RegistryDesiredState implements DesiredStateSource {
    private final RegistryService registry;
    private final Supplier<ResourceGraph> graph;
    /** Where routes come from instead of the registry (BGP, in a cluster), by network id; or null. */
    private final java.util.function.Function<Set<Long>, Map<RouteKey, Route>> routesOfNetworks;

    /** @param graph the controller's graph, which exists only once the controller does */
    public RegistryDesiredState(RegistryService registry, Supplier<ResourceGraph> graph) {
        this(registry, graph, null);
    }

    /** @param routesOfNetworks the routes of the given networks, from elsewhere than the registry (the BGP Loc-RIB) */
    public RegistryDesiredState(RegistryService registry, Supplier<ResourceGraph> graph,
                                java.util.function.Function<Set<Long>, Map<RouteKey, Route>> routesOfNetworks) {
        this.registry = registry;
        this.graph = graph;
        this.routesOfNetworks = routesOfNetworks;
    }

    @Override
    public HostState desired(String host) {
        HostAssignments assignments;
        try {
            assignments = registry.hostAssignments(host);
        } catch (RegistryException unknownHost) {
            return HostState.empty(host);
        }
        Map<String, VmAttachment> attachments = new HashMap<>();
        Set<String> networks = new LinkedHashSet<>();
        Set<Long> networkIds = new LinkedHashSet<>();
        for (VmAssignment assignment : assignments.vms()) {
            Vm vm = assignment.vm();
            Optional<Resource> node = Optional.ofNullable(graph.get()).flatMap(g -> g.get(vm.name()));
            String name = node.map(Resource::name).orElse(vm.name());
            String project = node.flatMap(n -> graph.get().get(n.ownerId())).map(Resource::name).orElse("");
            attachments.put(vm.name(), new VmAttachment(vm.name(), name, project, vm.networkId(), vm.address(),
                    assignment.subnet().prefixLength(), vm.mac(), vm.port(), assignment.key(), vm.additionalAddresses()));
            networks.add(vm.network());
            networkIds.add(vm.networkId());
        }
        if (routesOfNetworks != null) {
            return new HostState(host, attachments, routesOfNetworks.apply(networkIds));
        }
        Map<RouteKey, Route> routes = new HashMap<>();
        Map<String, Integer> hostAddresses = new HashMap<>();
        for (String network : networks) {
            for (Vm vm : registry.vmsOf(network)) {
                Integer address = hostAddresses.computeIfAbsent(vm.host(), h -> registry.host(h).map(Host::address).orElse(null));
                if (address == null) {
                    continue;
                }
                Route route = new Route(vm.networkId(), vm.address(), vm.mac(), vm.host(), address, vm.port(), vm.name(), Route.VNP);
                routes.put(route.key(), route);
            }
        }
        return new HostState(host, attachments, routes);
    }
}
