package dev.vnet.controller.channel;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@link DesiredStateSource} kept in memory: hosts with their underlay addresses, and VMs placed on
 * them. For tests, the benchmark, and as the reference of what a host should hold. Thread-safe.
 *
 * <p>Each network's routes are one immutable {@link LayeredMap}, replaced by a layered copy when the
 * network changes and shared by every host whose VMs are all in that network: a change costs the
 * source and the publisher's diff the size of the change, and the publisher diffs it once, not once
 * per host.
 */
public final class InMemoryDesiredState implements DesiredStateSource {
    private record Placement(String host, VmAttachment attachment) {
    }

    private final Map<String, Integer> hostAddresses = new HashMap<>();
    private final Map<String, Placement> vms = new HashMap<>();
    private final Map<String, Map<String, VmAttachment>> attachmentsByHost = new HashMap<>();
    private final Map<Long, LayeredMap<RouteKey, Route>> routesByNetwork = new HashMap<>();
    /** Per network, how many of its VMs each host runs. */
    private final Map<Long, Map<String, Integer>> vmCountsByNetwork = new HashMap<>();
    /** Immutable copies handed out, dropped when their host changes. */
    private final Map<String, Map<String, VmAttachment>> attachmentsSnapshots = new HashMap<>();

    /** Adds a host, or moves it to another underlay address (the caller publishes its networks' hosts). */
    public synchronized void putHost(String host, int underlayAddress) {
        hostAddresses.put(host, underlayAddress);
    }

    /**
     * Places a VM on a host (replacing the VM of the same id, wherever it was).
     *
     * @return the hosts whose state this changed: every host with a VM in the VM's network (before and
     *         after), the VM's old and new host included
     */
    public synchronized Set<String> putVm(String host, VmAttachment vm) {
        Integer hostAddress = hostAddresses.get(host);
        if (hostAddress == null) {
            throw new IllegalArgumentException("unknown host " + host);
        }
        Set<String> affected = new TreeSet<>();
        Placement old = vms.get(vm.vmId());
        if (old != null) {
            affected.addAll(remove(old));
        }
        vms.put(vm.vmId(), new Placement(host, vm));
        attachmentsByHost.computeIfAbsent(host, name -> new HashMap<>()).put(vm.vmId(), vm);
        attachmentsSnapshots.remove(host);
        Route route = new Route(vm.networkId(), vm.address(), vm.mac(), host, hostAddress, vm.hostPort(), vm.vmId(), Route.VNP);
        routesByNetwork.merge(vm.networkId(), LayeredMap.of(Map.of(route.key(), route)),
                (routes, added) -> routes.with(added, List.of()));
        vmCountsByNetwork.computeIfAbsent(vm.networkId(), id -> new HashMap<>()).merge(host, 1, Integer::sum);
        affected.addAll(vmCountsByNetwork.get(vm.networkId()).keySet());
        return affected;
    }

    /** @return the hosts whose state this changed (every host that had a VM in the VM's network); empty if there was no such VM */
    public synchronized Set<String> removeVm(String vmId) {
        Placement old = vms.remove(vmId);
        return old == null ? Set.of() : remove(old);
    }

    private Set<String> remove(Placement placement) {
        VmAttachment vm = placement.attachment();
        vms.remove(vm.vmId());
        Set<String> affected = new TreeSet<>(vmCountsByNetwork.get(vm.networkId()).keySet());
        Map<String, VmAttachment> attachments = attachmentsByHost.get(placement.host());
        attachments.remove(vm.vmId());
        if (attachments.isEmpty()) {
            attachmentsByHost.remove(placement.host());
        }
        attachmentsSnapshots.remove(placement.host());
        LayeredMap<RouteKey, Route> routes = routesByNetwork.get(vm.networkId()).with(Map.of(), List.of(vm.routeKey()));
        if (routes.isEmpty()) {
            routesByNetwork.remove(vm.networkId());
        } else {
            routesByNetwork.put(vm.networkId(), routes);
        }
        Map<String, Integer> counts = vmCountsByNetwork.get(vm.networkId());
        if (counts.merge(placement.host(), -1, Integer::sum) == 0) {
            counts.remove(placement.host());
        }
        if (counts.isEmpty()) {
            vmCountsByNetwork.remove(vm.networkId());
        }
        return affected;
    }

    /** The hosts that run a VM of the network. */
    public synchronized Set<String> hostsOfNetwork(long networkId) {
        return new TreeSet<>(vmCountsByNetwork.getOrDefault(networkId, Map.of()).keySet());
    }

    public synchronized Set<String> hosts() {
        return new TreeSet<>(hostAddresses.keySet());
    }

    @Override
    public synchronized HostState desired(String host) {
        Map<String, VmAttachment> attachments = attachmentsSnapshots.computeIfAbsent(host,
                name -> Map.copyOf(attachmentsByHost.getOrDefault(name, Map.of())));
        Set<Long> networks = new HashSet<>();
        attachments.values().forEach(vm -> networks.add(vm.networkId()));
        Map<RouteKey, Route> routes;
        if (networks.isEmpty()) {
            routes = Map.of();
        } else if (networks.size() == 1) {
            routes = networkRoutes(networks.iterator().next());
        } else {
            Map<RouteKey, Route> union = new HashMap<>();
            networks.forEach(network -> union.putAll(networkRoutes(network)));
            routes = Map.copyOf(union);
        }
        return new HostState(host, attachments, routes);
    }

    private Map<RouteKey, Route> networkRoutes(long networkId) {
        return routesByNetwork.getOrDefault(networkId, LayeredMap.empty());
    }
}
