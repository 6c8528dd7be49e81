/*
 * The controller's write path: the resource graph (the operator's model), the registry (what the data
 * plane needs: addresses, MACs, host ports, keys, tokens), and the hosts that must apply each change.
 *
 * Two models, one direction. The graph (seed 004) is what the API edits: projects, networks with
 * subnets, ports with addresses, VMs on hosts. The registry (seed 003) is what agents and tokens are
 * served from. The registry is derived from the graph and never edited on its own, as OVN derives its
 * southbound database from the northbound one: a graph host is a registry host (same name), a graph
 * network with a subnet is a registry network named by the graph network's id, and a graph VM with a
 * port is a registry VM named by the VM's id, with the port's address and MAC and the VM's host port
 * as the graph allocated them.
 *
 * Each change is: the graph operation (its node tasks allocate; concurrent changes run in parallel),
 * then, under one lock, the matching registry operation, the store revision after it as the change's
 * version, and the hosts whose state it touched handed to the agent channel (HostChangeSink) with that
 * version. The lock keeps versions handed out in the order the registry saw the changes, which is what
 * lets an agent's acknowledged version mean "everything up to here".
 *
 * Crashes. The graph is written first; a crash before the registry write leaves a graph node the
 * registry lacks. On start (and after every delete, which may remove a whole subtree) reconcile()
 * compares the two and makes the registry match the graph, so an acknowledged write is never lost and
 * nothing the graph forgot lingers in the registry.
 *
 * Data-plane limits the graph does not have are refused here with a reason: a network has one subnet,
 * a VM has exactly one port (one NIC, one TAP).
 */
package dev.vnet.controller;

import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.graph.GraphException;
import dev.vnet.controller.graph.Kind;
import dev.vnet.controller.graph.Resource;
import dev.vnet.controller.graph.ResourceGraph;
import dev.vnet.registry.Host;
import dev.vnet.registry.Network;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.Vm;
import dev.vnet.store.ConfigStore;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import static dev.vnet.controller.graph.GraphException.Reason.CONFLICT;
import static dev.vnet.controller.graph.GraphException.Reason.INVALID;
import static dev.vnet.controller.graph.GraphException.Reason.NOT_FOUND;

/** The controller's state and write path; the design is described at the top of this file. Thread-safe. */
public final class Controller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    /** What a write returns: its result and the version hosts acknowledge once they applied it. */
    public record Change<T>(T value, long version) {
    }

    private final ConfigStore store;
    private final ResourceGraph graph;
    private final RegistryService registry;
    private final HostChangeSink hosts;
    private final ReentrantLock registryWrites = new ReentrantLock();
    /** A registry write failed after its graph write (the store was unavailable): reconcile before the next write. */
    private volatile boolean repairPending;

    /** Rebuilds the graph from {@code store} and reconciles {@code registry} (on the same store) with it. */
    public Controller(ConfigStore store, RegistryService registry, HostChangeSink hosts) {
        this.store = store;
        this.graph = new ResourceGraph(store);
        this.registry = registry;
        this.hosts = hosts;
        Set<String> repaired = locked(this::reconcile);
        if (!repaired.isEmpty()) {
            LOG.info("reconciled the registry with the graph; hosts touched: {}", repaired);
        }
    }

    public ResourceGraph graph() {
        return graph;
    }

    public RegistryService registry() {
        return registry;
    }

    // ---- reads ----

    public Optional<Resource> get(String id) {
        return graph.get(id);
    }

    /** The resource with {@code id}, or NOT_FOUND if there is none of that kind. */
    public Resource get(String id, Kind kind) {
        return graph.get(id).filter(r -> r.kind() == kind)
                .orElseThrow(() -> new GraphException(NOT_FOUND, "no " + kind.name().toLowerCase() + " " + id));
    }

    public List<Resource> list(Kind kind) {
        return graph.list(kind);
    }

    /** What {@code ownerId} (null: the cloud) owns of a kind; see {@link ResourceGraph#children}. */
    public List<Resource> children(String ownerId, Kind kind) {
        return graph.children(ownerId, kind);
    }

    public Optional<Resource> child(String ownerId, Kind kind, String name) {
        return graph.child(ownerId, kind, name);
    }

    /** The current version (store revision); a read-your-writes point for {@link #awaitApplied}. */
    public long version() {
        return store.revision();
    }

    public SyncStatus awaitApplied(long version, Duration timeout) {
        return hosts.awaitApplied(version, timeout);
    }

    // ---- writes ----

    public Change<Resource> createProject(String name) {
        repairIfPending();
        return new Change<>(graph.createProject(name), store.revision());
    }

    /** A host; its name is the CN of its agent's certificate, its address unique on the underlay. */
    public Change<Resource> createHost(String name, String address) {
        if (RegistryService.ADMIN_IDENTITY.equals(name)) {
            throw new GraphException(INVALID, "'" + name + "' is the administrator's identity; it cannot be a host name");
        }
        return locked(() -> {
            String normalized = normalizedAddress(address);
            for (Resource other : graph.list(Kind.HOST)) {
                if (!other.name().equals(name) && other.attributes().get("address").equals(normalized)) {
                    throw new GraphException(CONFLICT, "address " + address + " is already host " + other.name() + "'s");
                }
            }
            Resource host = graph.createHost(name, address);
            registry.registerHost(host.name(), (String) host.attributes().get("address"));
            return published(host, Set.of());
        });
    }

    /** The address in canonical form; refused here, before the graph write, if the registry would refuse it. */
    private static String normalizedAddress(String address) {
        int parsed;
        try {
            parsed = Ipv4Address.parse(address);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new GraphException(INVALID, "host address: " + (address == null ? "missing" : e.getMessage()));
        }
        if (parsed == 0 || Integer.compareUnsigned(parsed, 0xE000_0000) >= 0) {
            throw new GraphException(INVALID, "host address " + address + " is not a unicast address");
        }
        return Ipv4Address.toString(parsed);
    }

    public Change<Resource> createNetwork(String projectId, String name) {
        return createNetwork(projectId, name, null);
    }

    /** @param segmentationId the network id the data plane carries, or null for the lowest free one */
    public Change<Resource> createNetwork(String projectId, String name, Long segmentationId) {
        repairIfPending();
        return new Change<>(graph.createNetwork(projectId, name, segmentationId), store.revision());
    }

    /** A subnet; a network has one for now, because the data plane serves a network as one subnet. */
    public Change<Resource> createSubnet(String networkId, String name, String cidr) {
        Resource network = get(networkId, Kind.NETWORK);
        return locked(() -> {
            for (Resource subnet : graph.children(networkId, Kind.SUBNET)) {
                if (!subnet.name().equals(name)) {
                    throw new GraphException(CONFLICT, "network " + network.name() + " already has subnet " + subnet.name()
                            + " (" + subnet.attributes().get("cidr") + "); a network has one subnet for now");
                }
            }
            Resource subnet = graph.createSubnet(networkId, name, cidr);
            registry.createNetwork(network.id(), ((Number) network.attributes().get("network_id")).longValue(),
                    (String) subnet.attributes().get("cidr"));
            return published(subnet, Set.of());
        });
    }

    public Change<Resource> createPort(String subnetId, String name, String ipAddress) {
        repairIfPending();
        return new Change<>(graph.createPort(subnetId, name, ipAddress), store.revision());
    }

    /** A VM on a host with exactly one port (its NIC); its host and the hosts sharing its network are told. */
    public Change<Resource> createVm(String projectId, String name, String hostId, List<String> portIds) {
        if (portIds == null || portIds.size() != 1) {
            throw new GraphException(INVALID, "a vm needs exactly one port (one NIC) for now, not "
                    + (portIds == null ? 0 : portIds.size()));
        }
        repairIfPending();
        // The store may fail while the graph writes or undoes the VM: then what the graph holds may not be
        // what the registry holds, and the next write reconciles the two.
        Resource vm = repairingOnStoreFailure(() -> graph.createVm(projectId, name, hostId, portIds));
        return locked(() -> {
            RegistryVm wanted = registryVm(vm).orElseThrow(() -> new IllegalStateException(vm.id() + " was just created"));
            Vm created = registry.createVm(wanted.name(), wanted.network(), wanted.host(), wanted.address(), wanted.mac(), wanted.port());
            Set<String> touched = hostsOf(created.network());
            touched.add(created.host());
            return published(vm, touched);
        });
    }

    /**
     * Deletes a resource and what it owns (refused when something else uses it, unless {@code force});
     * the registry then loses what the graph lost, and the hosts that held any of it are told.
     */
    public Change<Void> delete(String id, boolean force) {
        return locked(() -> {
            boolean vm = graph.get(id).map(r -> r.kind() == Kind.VM).orElse(false);
            graph.delete(id, force);
            // A VM is the common delete and owns nothing: remove just it. Anything else may take a
            // subtree with it, which reconcile() finds.
            Set<String> touched = vm ? removeRegistryVm(id) : reconcile();
            Set<String> deletedHosts = new HashSet<>(touched);
            registry.hosts().forEach(host -> deletedHosts.remove(host.name()));
            Change<Void> change = published(null, touched);
            hosts.forget(deletedHosts);
            return change;
        });
    }

    @Override
    public void close() {
        graph.close();
    }

    // ---- internals ----

    /** Writes that touch only the graph take the lock only when a repair is pending. */
    private void repairIfPending() {
        if (repairPending) {
            locked(() -> null);
        }
    }

    /**
     * Runs a registry write under the lock. If the store fails it half-way (the graph written, the
     * registry not: an etcd member died, the disk failed), the next write first reconciles the two, so
     * the registry does not stay behind the graph until a restart.
     */
    private <T> T locked(Supplier<T> action) {
        registryWrites.lock();
        try {
            if (repairPending) {
                Set<String> repaired = reconcile();
                repairPending = false;
                published(null, repaired);
                LOG.info("reconciled the registry with the graph after a failed write; hosts touched: {}", repaired);
            }
            return repairingOnStoreFailure(action);
        } finally {
            registryWrites.unlock();
        }
    }

    /** Runs {@code write}; a failure that is not a refusal (the store failed) schedules a reconcile before the next write. */
    private <T> T repairingOnStoreFailure(Supplier<T> write) {
        try {
            return write.get();
        } catch (GraphException | dev.vnet.registry.RegistryException refused) {
            throw refused;
        } catch (RuntimeException storeFailed) {
            repairPending = true;
            throw storeFailed;
        }
    }

    /** Under the lock: the version is the revision after the registry write, and the hosts are told. */
    private <T> Change<T> published(T value, Set<String> touched) {
        long version = store.revision();
        if (!touched.isEmpty()) {
            hosts.publish(version, touched);
        }
        return new Change<>(value, version);
    }

    private Set<String> hostsOf(String registryNetwork) {
        Set<String> result = new HashSet<>();
        for (Vm vm : registry.vmsOf(registryNetwork)) {
            result.add(vm.host());
        }
        return result;
    }

    /** Under the lock: the registry VM {@code name} is gone; returns the hosts that served its network. */
    private Set<String> removeRegistryVm(String name) {
        Optional<Vm> vm = registry.vm(name);
        if (vm.isEmpty()) {
            return Set.of();
        }
        Set<String> touched = hostsOf(vm.get().network());
        registry.deleteVm(name);
        return touched;
    }

    /** A registry VM as the graph wants it. */
    private record RegistryVm(String name, String network, long networkId, String host, String address, String mac, int port) {
        boolean matches(Vm vm) {
            return vm.network().equals(network) && vm.networkId() == networkId && vm.host().equals(host)
                    && Ipv4Address.toString(vm.address()).equals(address) && MacAddress.toString(vm.mac()).equals(mac)
                    && vm.port() == port;
        }
    }

    /** The registry VM a graph VM maps to, or empty if it has no port yet (a forced delete unbound it). */
    private Optional<RegistryVm> registryVm(Resource vm) {
        String hostId = (String) vm.attributes().get("host");
        Optional<Resource> host = graph.get(hostId);
        Optional<Resource> port = vm.uses().stream().filter(id -> !id.equals(hostId)).findFirst().flatMap(graph::get);
        if (host.isEmpty() || port.isEmpty()) {
            return Optional.empty();
        }
        Optional<Resource> network = graph.get(port.get().ownerId()).flatMap(subnet -> graph.get(subnet.ownerId()));
        if (network.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new RegistryVm(vm.id(), network.get().id(), ((Number) network.get().attributes().get("network_id")).longValue(),
                host.get().name(), (String) port.get().attributes().get("ip_address"), (String) port.get().attributes().get("mac_address"),
                ((Number) vm.attributes().get("host_port")).intValue()));
    }

    /**
     * Under the lock: makes the registry hold exactly what the graph implies, removing first (VMs, then
     * networks and hosts) and adding after (hosts and networks, then VMs).
     *
     * @return the hosts whose state changed: each removed or added VM's host and every host serving its network
     */
    private Set<String> reconcile() {
        Map<String, String> wantedHosts = new HashMap<>();
        for (Resource host : graph.list(Kind.HOST)) {
            wantedHosts.put(host.name(), (String) host.attributes().get("address"));
        }
        Map<String, Network> wantedNetworks = new HashMap<>();
        for (Resource subnet : graph.list(Kind.SUBNET)) {
            graph.get(subnet.ownerId()).ifPresent(network -> wantedNetworks.putIfAbsent(network.id(), new Network(network.id(),
                    ((Number) network.attributes().get("network_id")).longValue(),
                    dev.vnet.registry.Subnet.parse((String) subnet.attributes().get("cidr")))));
        }
        Map<String, RegistryVm> wantedVms = new HashMap<>();
        for (Resource vm : graph.list(Kind.VM)) {
            registryVm(vm).filter(wanted -> wantedNetworks.containsKey(wanted.network())).ifPresent(wanted -> wantedVms.put(wanted.name(), wanted));
        }
        Set<String> touched = new HashSet<>();
        Map<String, Network> registeredNetworksByName = new HashMap<>();
        registry.networks().forEach(n -> registeredNetworksByName.put(n.name(), n));
        for (Vm vm : registry.vms()) {
            RegistryVm wanted = wantedVms.get(vm.name());
            Network network = wantedNetworks.get(vm.network());
            if (wanted == null || !wanted.matches(vm) || network == null || !network.equals(registeredNetworksByName.get(vm.network()))) {
                touched.addAll(hostsOf(vm.network()));
                registry.deleteVm(vm.name());
                LOG.info("registry: removed vm {} (the graph no longer has it as it is)", vm.name());
            }
        }
        for (Network network : registry.networks()) {
            if (!network.equals(wantedNetworks.get(network.name()))) {
                registry.deleteNetwork(network.name());
                LOG.info("registry: removed network {}", network.name());
            }
        }
        for (Host host : registry.hosts()) {
            if (!Ipv4Address.toString(host.address()).equals(wantedHosts.get(host.name()))) {
                registry.deleteHost(host.name());
                touched.add(host.name());
                LOG.info("registry: removed host {}", host.name());
            }
        }
        Set<String> registeredHosts = new HashSet<>();
        registry.hosts().forEach(h -> registeredHosts.add(h.name()));
        wantedHosts.forEach((name, address) -> {
            if (!registeredHosts.contains(name)) {
                registry.registerHost(name, address);
            }
        });
        Set<String> registeredNetworks = new HashSet<>();
        registry.networks().forEach(n -> registeredNetworks.add(n.name()));
        for (Network network : wantedNetworks.values()) {
            if (!registeredNetworks.contains(network.name())) {
                registry.createNetwork(network.name(), network.id(), network.subnet().toString());
            }
        }
        Set<String> registeredVms = new HashSet<>();
        registry.vms().forEach(v -> registeredVms.add(v.name()));
        for (RegistryVm wanted : wantedVms.values()) {
            if (!registeredVms.contains(wanted.name())) {
                registry.createVm(wanted.name(), wanted.network(), wanted.host(), wanted.address(), wanted.mac(), wanted.port());
                touched.addAll(hostsOf(wanted.network()));
                LOG.info("registry: added vm {} (the graph had it)", wanted.name());
            }
        }
        return touched;
    }
}
