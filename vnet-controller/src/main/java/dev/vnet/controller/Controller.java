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
 *
 * Load balancers and gateways are documents beside the graph (LbaasStore says why). A load balancer is
 * checked against the graph when it is created: its network exists, its backends are VMs of that
 * network, its VIP is outside that network's subnet, and no other load balancer listens on the same
 * VIP, protocol and port. Afterwards its members are resolved by VM name whenever it is read, so a
 * backend VM may be deleted (the load balancer loses that member) and created again (it is a member
 * again). A network, or a project with networks, that a load balancer is in is "in use": its delete
 * is refused unless forced, and a forced one deletes those load balancers too. These writes take the
 * registry lock, so a network cannot be deleted between a load balancer's check of it and its write.
 */
package dev.vnet.controller;

import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.graph.GraphException;
import dev.vnet.controller.graph.Kind;
import dev.vnet.controller.graph.Resource;
import dev.vnet.controller.graph.ResourceGraph;
import dev.vnet.gateway.config.GatewaySpec;
import dev.vnet.gateway.config.ListenerPort;
import dev.vnet.gateway.config.LoadBalancer;
import dev.vnet.gateway.config.LoadBalancerSpec;
import dev.vnet.gateway.config.LocationLabel;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import static dev.vnet.controller.graph.GraphException.Reason.CONFLICT;
import static dev.vnet.controller.graph.GraphException.Reason.INVALID;
import static dev.vnet.controller.graph.GraphException.Reason.IN_USE;
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
    private final LbaasStore lbaas;
    private final ReentrantLock registryWrites = new ReentrantLock();
    /** A registry write failed after its graph write (the store was unavailable): reconcile before the next write. */
    private volatile boolean repairPending;

    /** Rebuilds the graph from {@code store} and reconciles {@code registry} (on the same store) with it. */
    public Controller(ConfigStore store, RegistryService registry, HostChangeSink hosts) {
        this.store = store;
        this.graph = new ResourceGraph(store);
        this.registry = registry;
        this.hosts = hosts;
        this.lbaas = new LbaasStore(store);
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
        return createHost(name, address, LocationLabel.NONE);
    }

    /** A host with a location label ("" for none), which its VMs have as load balancer members. */
    public Change<Resource> createHost(String name, String address, String location) {
        try {
            LocationLabel.requireValid("host location", location);
        } catch (IllegalArgumentException e) {
            throw new GraphException(INVALID, e.getMessage());
        }
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
            Resource host = graph.createHost(name, address, location);
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
            return published(subnet, syncLbaas());
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
            touched.addAll(syncLbaas());
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
            List<LbaasStore.StoredLoadBalancer> inside = loadBalancersInside(id);
            if (!inside.isEmpty() && !force) {
                throw new GraphException(IN_USE, graph.get(id).map(r -> r.kind().label() + " " + r.name()).orElse(id)
                        + " is in use by load balancer" + (inside.size() == 1 ? " " : "s ")
                        + String.join(", ", inside.stream().map(lb -> lb.spec().name()).toList()) + "; delete those first, or force");
            }
            graph.delete(id, force);
            // Forced: the load balancers go with their network (a crash before this leaves them with no members).
            inside.forEach(lb -> lbaas.deleteLoadBalancer(lb.spec().name()));
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

    // ---- load balancers and gateways ----

    /** Every load balancer, by name, with its members as they are now. */
    public List<LoadBalancer> loadBalancers() {
        MemberIndex members = new MemberIndex();
        return lbaas.loadBalancers().stream().map(members::view).toList();
    }

    /** The load balancer with this id, or else this name. */
    public Optional<LoadBalancer> loadBalancer(String idOrName) {
        return LbaasStore.byIdOrName(lbaas.loadBalancers(), idOrName, LbaasStore.StoredLoadBalancer::id, lb -> lb.spec().name())
                .map(new MemberIndex()::view);
    }

    /**
     * Creates a load balancer, idempotent by name: the same spec again returns the existing one, another
     * spec under that name is a CONFLICT. Refused, writing nothing, when the network is unknown (NOT_FOUND)
     * or ambiguous, a backend is not a VM of the network, or the VIP is in the network's subnet (INVALID),
     * or another load balancer listens on the same VIP, protocol and port (CONFLICT).
     */
    public Change<LoadBalancer> createLoadBalancer(LoadBalancerSpec spec) {
        return locked(() -> {
            List<LbaasStore.StoredLoadBalancer> all = lbaas.loadBalancers();
            Optional<LbaasStore.StoredLoadBalancer> existing = all.stream().filter(lb -> lb.spec().name().equals(spec.name())).findFirst();
            if (existing.isPresent()) {
                return new Change<>(sameOrConflict(existing.get(), spec), store.revision());
            }
            Resource network = networkNamed(spec.network());
            for (Resource subnet : graph.children(network.id(), Kind.SUBNET)) {
                dev.vnet.registry.Subnet cidr = dev.vnet.registry.Subnet.parse((String) subnet.attributes().get("cidr"));
                if (Integer.toUnsignedLong(spec.vipAddress() - cidr.address()) < cidr.size()) {
                    // The network's VMs would take the VIP for a neighbour on their own link and never reach a gateway.
                    throw new GraphException(INVALID, "vip_address " + spec.vipText() + " is inside subnet " + subnet.name() + " ("
                            + subnet.attributes().get("cidr") + ") of network " + network.name() + "; a VIP must be outside it");
                }
            }
            MemberIndex members = new MemberIndex();
            for (int i = 0; i < spec.backends().size(); i++) {
                String vm = spec.backends().get(i);
                if (members.of(network.id(), vm).isEmpty()) {
                    boolean elsewhere = graph.list(Kind.VM).stream().anyMatch(r -> r.name().equals(vm));
                    throw new GraphException(INVALID, "backends[" + i + "]: vm " + vm + " is not a VM of network " + network.name()
                            + (elsewhere ? " (a VM of that name is in another network, or has no port)" : " (there is no VM of that name)"));
                }
            }
            for (LbaasStore.StoredLoadBalancer other : all) {
                if (other.spec().vipAddress() != spec.vipAddress()) {
                    continue;
                }
                for (ListenerPort port : spec.ports()) {
                    if (other.spec().ports().contains(port)) {
                        throw new GraphException(CONFLICT, "load balancer " + other.spec().name() + " already listens on "
                                + spec.vipText() + " " + port);
                    }
                }
            }
            LbaasStore.StoredLoadBalancer stored = new LbaasStore.StoredLoadBalancer(UUID.randomUUID().toString(), network.id(), spec);
            if (!lbaas.putIfAbsent(stored)) { // another controller process took the name meanwhile
                LbaasStore.StoredLoadBalancer winner = lbaas.loadBalancers().stream()
                        .filter(lb -> lb.spec().name().equals(spec.name())).findFirst()
                        .orElseThrow(() -> new GraphException(CONFLICT, "load balancer " + spec.name() + " is being created and deleted concurrently"));
                return new Change<>(sameOrConflict(winner, spec), store.revision());
            }
            return published(members.view(stored), syncLbaas());
        });
    }

    private LoadBalancer sameOrConflict(LbaasStore.StoredLoadBalancer existing, LoadBalancerSpec wanted) {
        if (!existing.spec().equals(wanted)) {
            throw new GraphException(CONFLICT, "load balancer " + wanted.name() + " already exists with a different specification "
                    + existing.spec().toJson());
        }
        return new MemberIndex().view(existing);
    }

    /** The network with this id, or else the only one with this name. */
    private Resource networkNamed(String idOrName) {
        Optional<Resource> byId = graph.get(idOrName).filter(r -> r.kind() == Kind.NETWORK);
        if (byId.isPresent()) {
            return byId.get();
        }
        List<Resource> named = graph.list(Kind.NETWORK).stream().filter(r -> r.name().equals(idOrName)).toList();
        if (named.isEmpty()) {
            throw new GraphException(NOT_FOUND, "no network " + idOrName);
        }
        if (named.size() > 1) {
            throw new GraphException(INVALID, named.size() + " networks are named " + idOrName + " (in different projects): "
                    + String.join(", ", named.stream().map(Resource::id).toList()) + "; give network as an id");
        }
        return named.getFirst();
    }

    public Change<Void> deleteLoadBalancer(String idOrName) {
        return locked(() -> {
            LbaasStore.StoredLoadBalancer lb = LbaasStore.byIdOrName(lbaas.loadBalancers(), idOrName,
                    LbaasStore.StoredLoadBalancer::id, l -> l.spec().name())
                    .orElseThrow(() -> new GraphException(NOT_FOUND, "no load balancer " + idOrName));
            lbaas.deleteLoadBalancer(lb.spec().name());
            return published(null, syncLbaas());
        });
    }

    /** Every registered gateway, by name. */
    public List<RegisteredGateway> gateways() {
        return lbaas.gateways();
    }

    public Optional<RegisteredGateway> gateway(String idOrName) {
        return LbaasStore.byIdOrName(lbaas.gateways(), idOrName, RegisteredGateway::id, g -> g.spec().name());
    }

    /**
     * Registers a gateway, idempotent by name (a gateway registers again at every start); another spec
     * under its name, or another gateway's underlay address and port, is a CONFLICT.
     */
    public Change<RegisteredGateway> createGateway(GatewaySpec spec) {
        return locked(() -> {
            for (RegisteredGateway other : lbaas.gateways()) {
                if (other.spec().name().equals(spec.name())) {
                    if (!other.spec().equals(spec)) {
                        throw new GraphException(CONFLICT, "gateway " + spec.name() + " is already registered with a different specification "
                                + other.spec().toJson() + "; delete it first to register it anew");
                    }
                    return new Change<>(other, store.revision());
                }
                if (other.spec().underlayAddress() == spec.underlayAddress() && other.spec().port() == spec.port()) {
                    throw new GraphException(CONFLICT, "gateway " + other.spec().name() + " already has address "
                            + other.spec().toJson().path("address").asText() + " port " + spec.port());
                }
            }
            RegisteredGateway gateway = new RegisteredGateway(UUID.randomUUID().toString(), spec);
            if (!lbaas.putIfAbsent(gateway)) {
                throw new GraphException(CONFLICT, "gateway " + spec.name() + " was registered concurrently; register again");
            }
            return published(gateway, syncLbaas());
        });
    }

    public Change<Void> deleteGateway(String idOrName) {
        return locked(() -> {
            RegisteredGateway gateway = gateway(idOrName).orElseThrow(() -> new GraphException(NOT_FOUND, "no gateway " + idOrName));
            lbaas.deleteGateway(gateway.spec().name());
            return published(null, syncLbaas());
        });
    }

    /** The load balancers whose network is the resource {@code id} or one it owns (a project's networks). */
    private List<LbaasStore.StoredLoadBalancer> loadBalancersInside(String id) {
        List<LbaasStore.StoredLoadBalancer> inside = new ArrayList<>();
        for (LbaasStore.StoredLoadBalancer lb : lbaas.loadBalancers()) {
            if (lb.networkId().equals(id) || graph.get(lb.networkId()).map(network -> id.equals(network.ownerId())).orElse(false)) {
                inside.add(lb);
            }
        }
        return inside;
    }

    /**
     * The VMs of each network as load balancer members, read from the graph once for all the load
     * balancers of one request.
     */
    private final class MemberIndex {
        private final Map<String, Map<String, LoadBalancer.Member>> byNetwork = new HashMap<>();

        MemberIndex() {
            Map<String, Resource> hostsById = new HashMap<>();
            graph.list(Kind.HOST).forEach(host -> hostsById.put(host.id(), host));
            for (Resource vm : graph.list(Kind.VM)) {
                String hostId = (String) vm.attributes().get("host");
                Resource host = hostsById.get(hostId);
                Optional<Resource> port = vm.uses().stream().filter(id -> !id.equals(hostId)).findFirst().flatMap(graph::get);
                Optional<String> network = port.flatMap(p -> graph.get(p.ownerId())).map(Resource::ownerId);
                if (host == null || network.isEmpty()) {
                    continue; // a VM whose port was taken by a forced delete serves nothing
                }
                byNetwork.computeIfAbsent(network.get(), n -> new HashMap<>()).put(vm.name(), new LoadBalancer.Member(vm.name(), vm.id(),
                        Ipv4Address.parse((String) port.get().attributes().get("ip_address")), host.name(),
                        (String) host.attributes().getOrDefault("location", LocationLabel.NONE)));
            }
        }

        Optional<LoadBalancer.Member> of(String networkId, String vmName) {
            return Optional.ofNullable(byNetwork.getOrDefault(networkId, Map.of()).get(vmName));
        }

        LoadBalancer view(LbaasStore.StoredLoadBalancer lb) {
            List<LoadBalancer.Member> members = new ArrayList<>();
            lb.spec().backends().forEach(vm -> of(lb.networkId(), vm).ifPresent(members::add));
            return new LoadBalancer(lb.id(), lb.networkId(), lb.spec(), members);
        }
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
                for (dev.vnet.registry.Gateway gateway : registry.gateways()) {
                    if (gateway.network().equals(network.name())) {
                        registry.deleteGateway(gateway.network(), gateway.name());
                    }
                }
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
        touched.addAll(syncLbaas());
        return touched;
    }

    /**
     * Under the lock: derives the registry's gateway sets and VMs' additional addresses from the load
     * balancer and gateway documents, as the rest of the registry is derived from the graph. Every
     * registered gateway serves every network (egress for all of them, ingress for their load
     * balancers), as a cloud's edge does; each backend of a load balancer in unchanged mode owns the
     * VIP. Writes only differences.
     *
     * @return the hosts of VMs whose additional addresses changed
     */
    private Set<String> syncLbaas() {
        Map<String, GatewaySpec> gateways = new HashMap<>();
        lbaas.gateways().forEach(gateway -> gateways.put(gateway.spec().name(), gateway.spec()));
        Set<String> networks = new HashSet<>();
        registry.networks().forEach(network -> networks.add(network.name()));
        for (dev.vnet.registry.Gateway present : registry.gateways()) {
            GatewaySpec wanted = gateways.get(present.name());
            if (wanted == null || !networks.contains(present.network()) || wanted.underlayAddress() != present.address()
                    || wanted.port() != present.port()) {
                registry.deleteGateway(present.network(), present.name());
            }
        }
        for (String network : networks) {
            for (GatewaySpec gateway : gateways.values()) {
                registry.setGateway(network, gateway.name(), Ipv4Address.toString(gateway.underlayAddress()), gateway.port());
            }
        }
        Map<String, java.util.TreeSet<Long>> owned = new HashMap<>();
        MemberIndex members = new MemberIndex();
        for (LbaasStore.StoredLoadBalancer stored : lbaas.loadBalancers()) {
            if (stored.spec().forwarding() != dev.vnet.gateway.config.ForwardingMode.UNCHANGED) {
                continue;
            }
            for (LoadBalancer.Member member : members.view(stored).members()) {
                owned.computeIfAbsent(member.vmId(), k -> new java.util.TreeSet<>()).add(Integer.toUnsignedLong(stored.spec().vipAddress()));
            }
        }
        Set<String> touched = new HashSet<>();
        for (Vm vm : registry.vms()) {
            List<Integer> wanted = owned.getOrDefault(vm.name(), new java.util.TreeSet<>()).stream().map(Long::intValue).toList();
            if (!wanted.equals(vm.additionalAddresses())) {
                registry.setVmAdditionalAddresses(vm.name(), wanted);
                touched.addAll(hostsOf(vm.network()));
                touched.add(vm.host());
            }
        }
        return touched;
    }
}
