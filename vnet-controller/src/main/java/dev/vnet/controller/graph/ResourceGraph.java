/*
 * The controller's resources as a graph (seed 004, "Resource management").
 *
 * Nodes and links. Every resource is a node. Ownership links form a tree: the cloud owns projects
 * and hosts; a project owns networks and VMs; a network owns subnets; a subnet owns ports. Usage links
 * cross it: a VM uses its host (where it runs, and a UDP port there) and its ports (its NICs).
 *
 * Messages and tasks. A change is a message to the node whose resource it allocates or frees, run by
 * that node's task one message at a time (NodeTask): a subnet's task hands out its addresses, a host's
 * task its VM ports, a project's task the names of its networks and VMs. Because one task does all of
 * a node's allocation, two concurrent requests can never be given the same address or port, with no
 * lock held across nodes. Operations that span several nodes (creating a VM: a name in its project, a
 * port on its host, a binding on each NIC; deleting a subtree) are orchestrated by the caller's thread,
 * which sends the messages and waits for the replies; tasks never wait on each other, so no cycle of
 * waits can form.
 *
 * Deleting. A delete takes two phases. First every node of the subtree (the node and everything it
 * owns, transitively) is marked deleting by its own task, which also reports who outside the subtree
 * uses it; a node marked deleting refuses new children and new users, so the answer cannot go stale.
 * If something is in use and the delete is not forced, the marks are lifted and the delete is refused
 * with the users named. Otherwise the subtree is removed bottom-up: each node gives back what it uses
 * (its host port, its NIC bindings) to the tasks that hold those, and its owner's task frees what the
 * node held there (a port's address in its subnet). A forced delete unbinds NICs from their VMs, and
 * deletes the VMs of a host being deleted (they cannot run anywhere else).
 *
 * Creates are idempotent by name: creating what already exists under the same owner with the same
 * specification returns the existing node; with a different one it is a conflict.
 *
 * Durability. Every node is a record in the config store under /vnet/graph/<id>: its kind, name,
 * owner, the specification it was created with and what it was given (addresses, ports, ids). The
 * task that creates or removes a node writes or deletes its record before it answers, so an answered
 * request survives a crash of the controller. A VM's record is written once all its parts are
 * allocated, so a crash mid-way leaves no half VM. Subtrees are removed bottom-up, so a crash during a
 * delete leaves no record whose owner is gone. On start the graph is rebuilt from the records: the
 * allocators are not stored, they are recomputed from what the records hold.
 */
package dev.vnet.controller.graph;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.registry.Subnet;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.KeyValue;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;

import static dev.vnet.controller.graph.GraphException.Reason.CONFLICT;
import static dev.vnet.controller.graph.GraphException.Reason.EXHAUSTED;
import static dev.vnet.controller.graph.GraphException.Reason.INVALID;
import static dev.vnet.controller.graph.GraphException.Reason.IN_USE;
import static dev.vnet.controller.graph.GraphException.Reason.NOT_FOUND;
import static dev.vnet.registry.Ipam.lowestFree;

/** The resource graph; the algorithm is described at the top of this file. Thread-safe. */
public final class ResourceGraph implements AutoCloseable {
    /** UDP ports a host gives its VMs (the registry's range). */
    public static final int FIRST_VM_PORT = 47901;
    public static final int LAST_VM_PORT = 48900;
    /** Network ids are 24-bit (they travel in the data plane's identity). */
    public static final long LAST_NETWORK_ID = (1L << 24) - 1;
    /** A port's MAC: 02:4e followed by its IPv4 address; unique in its network since subnets do not overlap. */
    static final long MAC_PREFIX = 0x024EL << 32;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    private record HostState(int address, NavigableSet<Long> usedPorts) {
    }

    private record NetworkState(long networkId) {
    }

    private record SubnetState(Subnet cidr, NavigableSet<Long> usedOffsets) {
    }

    private record PortState(int address) {
    }

    private record VmState(int hostPort) {
    }

    static final String PREFIX = "/vnet/graph/";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A node as stored. */
    record StoredNode(String id, Kind kind, String name, String owner, Map<String, Object> spec,
                      Map<String, Object> attributes, List<String> uses) {
    }

    private final ConfigStore store;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, Node> nodes = new ConcurrentHashMap<>();
    private final Node cloud;
    private final NavigableSet<Long> usedNetworkIds = new TreeSet<>();

    /** The graph kept in {@code store}, rebuilt from what it already holds. */
    public ResourceGraph(ConfigStore store) {
        this.store = store;
        cloud = new Node("cloud", Kind.CLOUD, "cloud", null, new NodeTask(threads), null);
        nodes.put(cloud.id, cloud);
        load();
    }

    private void load() {
        List<StoredNode> stored = new ArrayList<>();
        for (KeyValue entry : store.range(PREFIX).entries()) {
            try {
                stored.add(JSON.readValue(entry.value(), StoredNode.class));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("config store record " + entry.key() + " is not a resource: " + e.getMessage(), e);
            }
        }
        List<Kind> order = List.of(Kind.PROJECT, Kind.HOST, Kind.NETWORK, Kind.SUBNET, Kind.PORT, Kind.VM);
        stored.sort(Comparator.comparing((StoredNode n) -> order.indexOf(n.kind())));
        for (StoredNode record : stored) {
            Node owner = record.kind().owner() == Kind.CLOUD ? cloud : nodes.get(record.owner());
            if (owner == null) {
                throw new IllegalStateException("config store: " + record.kind().label() + " " + record.name()
                        + " names owner " + record.owner() + ", which is not there");
            }
            Map<String, Object> a = record.attributes();
            Object state = switch (record.kind()) {
                case HOST -> new HostState(Ipv4Address.parse((String) a.get("address")), new TreeSet<>());
                case NETWORK -> {
                    long id = ((Number) a.get("network_id")).longValue();
                    usedNetworkIds.add(id);
                    yield new NetworkState(id);
                }
                case SUBNET -> new SubnetState(Subnet.parse((String) a.get("cidr")), new TreeSet<>());
                case PORT -> {
                    int address = Ipv4Address.parse((String) a.get("ip_address"));
                    SubnetState subnet = (SubnetState) owner.state;
                    subnet.usedOffsets().add(Integer.toUnsignedLong(address - subnet.cidr().address()));
                    yield new PortState(address);
                }
                case VM -> new VmState(((Number) a.get("host_port")).intValue());
                default -> null;
            };
            Node node = new Node(record.id(), record.kind(), record.name(), owner, new NodeTask(threads), state);
            specs.put(node, record.spec());
            owner.children.add(node);
            nodes.put(node.id, node);
            for (String usedId : record.uses()) {
                Node used = nodes.get(usedId);
                if (used == null) {
                    throw new IllegalStateException("config store: " + node + " uses " + usedId + ", which is not there");
                }
                link(node, used);
                if (used.state instanceof HostState host && state instanceof VmState vm) {
                    host.usedPorts().add((long) vm.hostPort());
                }
            }
        }
    }

    private void persist(Node node) {
        Resource view = view(node);
        StoredNode record = new StoredNode(node.id, node.kind, node.name, node.owner == cloud ? null : node.owner.id,
                specs.getOrDefault(node, Map.of()), view.attributes(), view.uses());
        try {
            store.put(PREFIX + node.id, JSON.writeValueAsBytes(record));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- reads ----

    public Optional<Resource> get(String id) {
        return Optional.ofNullable(nodes.get(id)).filter(n -> !n.deleted && n != cloud).map(this::view);
    }

    /**
     * The nodes of a kind that {@code ownerId} owns, by name; {@code ownerId} null: those the cloud owns
     * (projects, hosts). Costs the owner's children, not the whole graph.
     */
    public List<Resource> children(String ownerId, Kind kind) {
        Node owner = ownerId == null ? cloud : nodes.get(ownerId);
        if (owner == null || owner.deleted) {
            return List.of();
        }
        return owner.children.stream().filter(n -> n.kind == kind && !n.deleted)
                .sorted(Comparator.comparing((Node n) -> n.name).thenComparing(n -> n.id)).map(this::view).toList();
    }

    /** The node of a kind named {@code name} under {@code ownerId} (null: the cloud), if there is one. */
    public Optional<Resource> child(String ownerId, Kind kind, String name) {
        Node owner = ownerId == null ? cloud : nodes.get(ownerId);
        if (owner == null || owner.deleted) {
            return Optional.empty();
        }
        return owner.children.stream().filter(n -> n.kind == kind && !n.deleted && n.name.equals(name)).findFirst().map(this::view);
    }

    /** Every node of a kind, by name. */
    public List<Resource> list(Kind kind) {
        return nodes.values().stream().filter(n -> n.kind == kind && !n.deleted)
                .sorted(Comparator.comparing((Node n) -> n.name).thenComparing(n -> n.id)).map(this::view).toList();
    }

    // ---- creates ----

    public Resource createProject(String name) {
        return view(await(cloud.task.send(() -> addChild(cloud, Kind.PROJECT, name, Map.of(), () -> null))));
    }

    public Resource createHost(String name, String underlayAddress) {
        return createHost(name, underlayAddress, "");
    }

    /**
     * A host with a location label ("" for none). The label is part of the host's specification only when
     * it is not empty, so hosts stored before there were labels still compare equal to a create without one.
     */
    public Resource createHost(String name, String underlayAddress, String location) {
        int address = parse(() -> Ipv4Address.parse(underlayAddress), "host address");
        Map<String, Object> spec = location.isEmpty() ? Map.of("address", Ipv4Address.toString(address))
                : Map.of("address", Ipv4Address.toString(address), "location", location);
        return view(await(cloud.task.send(() -> addChild(cloud, Kind.HOST, name, spec, () -> new HostState(address, new TreeSet<>())))));
    }

    public Resource createNetwork(String projectId, String name) {
        return createNetwork(projectId, name, null);
    }

    /**
     * A network with the given network id (the data plane's segmentation id, 1 to 2^24-1), or the lowest
     * free one when {@code requestedId} is null.
     */
    public Resource createNetwork(String projectId, String name, Long requestedId) {
        Node project = find(projectId, Kind.PROJECT);
        if (requestedId != null && (requestedId < 1 || requestedId > LAST_NETWORK_ID)) {
            throw new GraphException(INVALID, "network id " + requestedId + " is outside 1-" + LAST_NETWORK_ID);
        }
        Map<String, Object> spec = requestedId == null ? Map.of() : Map.of("network_id", requestedId);
        return view(await(project.task.send(() -> addChild(project, Kind.NETWORK, name, spec, () -> {
            synchronized (usedNetworkIds) {
                long id = requestedId != null ? requestedId : lowestFree(usedNetworkIds, 1, LAST_NETWORK_ID);
                if (id < 0) {
                    throw new GraphException(EXHAUSTED, "no network id left");
                }
                if (!usedNetworkIds.add(id)) {
                    throw new GraphException(CONFLICT, "network id " + id + " is already used");
                }
                return new NetworkState(id);
            }
        }))));
    }

    public Resource createSubnet(String networkId, String name, String cidr) {
        Node network = find(networkId, Kind.NETWORK);
        Subnet subnet = parse(() -> Subnet.parse(cidr), "subnet");
        return view(await(network.task.send(() -> addChild(network, Kind.SUBNET, name, Map.of("cidr", cidr), () -> {
            for (Node sibling : network.children) {
                Subnet other = ((SubnetState) sibling.state).cidr();
                if (overlaps(subnet, other)) {
                    throw new GraphException(CONFLICT, "subnet " + cidr + " overlaps subnet " + sibling.name + " ("
                            + Ipv4Address.toString(other.address()) + "/" + other.prefixLength() + ") of network " + network.name);
                }
            }
            return new SubnetState(subnet, new TreeSet<>());
        }))));
    }

    /**
     * Creates a port in a subnet: the subnet's task gives it the requested address if free, or the lowest
     * free one (.1 stays for the gateway).
     */
    public Resource createPort(String subnetId, String name, String requestedAddress) {
        Node subnetNode = find(subnetId, Kind.SUBNET);
        Integer requested = requestedAddress == null ? null : parse(() -> Ipv4Address.parse(requestedAddress), "port address");
        Map<String, Object> spec = requestedAddress == null ? Map.of() : Map.of("ip_address", requestedAddress);
        return view(await(subnetNode.task.send(() -> addChild(subnetNode, Kind.PORT, name, spec, () -> {
            SubnetState subnet = (SubnetState) subnetNode.state;
            long offset = assignOffset(subnetNode, subnet, requested);
            subnet.usedOffsets().add(offset);
            return new PortState(subnet.cidr().address() + (int) offset);
        }))));
    }

    /**
     * Creates a VM in a project, placed on a host and using the given ports (which must belong to the
     * project's networks and be free): a name from the project's task, a UDP port from the host's task,
     * a binding from each port's subnet task; undone in reverse if a step is refused.
     */
    public Resource createVm(String projectId, String name, String hostId, List<String> portIds) {
        Node project = find(projectId, Kind.PROJECT);
        Node host = find(hostId, Kind.HOST);
        List<Node> ports = new ArrayList<>();
        for (String portId : portIds) {
            Node port = find(portId, Kind.PORT);
            if (port.owner.owner.owner != project) {
                throw new GraphException(INVALID, port + " belongs to another project than " + project);
            }
            ports.add(port);
        }
        Map<String, Object> spec = Map.of("host", host.id, "ports", List.copyOf(portIds));
        Node existing = await(project.task.send(() -> existingChild(project, Kind.VM, name, spec)));
        if (existing != null) {
            return view(existing);
        }
        Node vm = await(project.task.send(() -> addChild(project, Kind.VM, name, spec, () -> null)));
        List<Node> bound = new ArrayList<>();
        try {
            int hostPort = await(host.task.send(() -> {
                requireAlive(host);
                HostState state = (HostState) host.state;
                long port = lowestFree(state.usedPorts(), FIRST_VM_PORT, LAST_VM_PORT);
                if (port < 0) {
                    throw new GraphException(EXHAUSTED, host + " has no VM port left");
                }
                state.usedPorts().add(port);
                link(vm, host);
                return (int) port;
            }));
            vm.state = new VmState(hostPort);
            for (Node port : ports) {
                await(port.owner.task.send(() -> {
                    requireAlive(port);
                    if (!port.usedBy.isEmpty()) {
                        throw new GraphException(IN_USE, port + " is already used by " + port.usedBy.iterator().next());
                    }
                    link(vm, port);
                    return null;
                }));
                bound.add(port);
            }
            await(project.task.send(() -> {
                persist(vm);
                return null;
            }));
            return view(vm);
        } catch (RuntimeException e) {
            for (Node port : bound) {
                await(port.owner.task.send(() -> unlink(vm, port)));
            }
            if (vm.state instanceof VmState(int hostPort)) {
                await(host.task.send(() -> {
                    ((HostState) host.state).usedPorts().remove((long) hostPort);
                    return unlink(vm, host);
                }));
            }
            await(project.task.send(() -> removeChild(vm)));
            throw e;
        }
    }

    // ---- delete ----

    /**
     * Deletes a node and everything it owns. Refused with {@link GraphException.Reason#IN_USE}, changing
     * nothing, if anything in it is used from outside, unless {@code force}.
     */
    public void delete(String id, boolean force) {
        Node node = nodes.get(id);
        if (node == null || node.deleted || node == cloud) {
            throw new GraphException(NOT_FOUND, "no resource " + id);
        }
        List<Node> subtree = subtree(node);
        Map<Node, List<Node>> externalUsers = new LinkedHashMap<>();
        List<Node> marked = new ArrayList<>();
        try {
            for (Node member : subtree) {
                List<Node> users = await(member.task.send(() -> {
                    if (member.deleting) {
                        throw new GraphException(CONFLICT, member + " is already being deleted");
                    }
                    member.deleting = true;
                    return member.usedBy.stream().filter(u -> !subtree.contains(u)).toList();
                }));
                marked.add(member);
                if (!users.isEmpty()) {
                    externalUsers.put(member, users);
                }
            }
            if (!externalUsers.isEmpty() && !force) {
                StringBuilder why = new StringBuilder(node + " is in use:");
                externalUsers.forEach((used, users) -> why.append(' ').append(used).append(" by ").append(users).append(';'));
                why.append(" delete those first, or force");
                throw new GraphException(IN_USE, why.toString());
            }
        } catch (RuntimeException e) {
            for (Node member : marked) {
                await(member.task.send(() -> {
                    member.deleting = false;
                    return null;
                }));
            }
            throw e;
        }
        externalUsers.forEach((used, users) -> {
            for (Node user : users) {
                if (used.kind == Kind.HOST && user.kind == Kind.VM && !user.deleted) {
                    delete(user.id, true); // a VM cannot outlive its host
                } else {
                    await(used.owner.task.send(() -> {
                        unlink(user, used); // a NIC taken from its VM: the VM's record no longer lists it
                        if (!user.deleted && user.kind == Kind.VM) {
                            persist(user);
                        }
                        return null;
                    }));
                }
            }
        });
        for (Node member : subtree.reversed()) {
            release(member);
        }
    }

    /** Gives back what a node uses, then has its owner free what it held there. */
    private void release(Node node) {
        for (Node used : List.copyOf(node.uses)) {
            if (used.kind == Kind.HOST) {
                await(used.task.send(() -> {
                    if (node.state instanceof VmState(int hostPort)) {
                        ((HostState) used.state).usedPorts().remove((long) hostPort);
                    }
                    return unlink(node, used);
                }));
            } else {
                await(used.owner.task.send(() -> unlink(node, used)));
            }
        }
        await(node.owner.task.send(() -> {
            Node removed = removeChild(node);
            freeInOwner(node);
            return removed;
        }));
    }

    /** In the owner's task: frees what the owner (or the cloud) allocated for the node. */
    private void freeInOwner(Node node) {
        switch (node.state) {
            case PortState(int address) -> ((SubnetState) node.owner.state).usedOffsets()
                    .remove(Integer.toUnsignedLong(address - ((SubnetState) node.owner.state).cidr().address()));
            case NetworkState(long networkId) -> {
                synchronized (usedNetworkIds) {
                    usedNetworkIds.remove(networkId);
                }
            }
            case null, default -> {
            }
        }
    }

    @Override
    public void close() {
        threads.shutdown();
    }

    // ---- helpers that run inside a task ----

    private interface StateFactory {
        Object create();
    }

    /** In the owner's task: the existing child of that name if its spec matches, else a new one. */
    private Node addChild(Node owner, Kind kind, String name, Map<String, Object> spec, StateFactory state) {
        Node existing = existingChild(owner, kind, name, spec);
        if (existing != null) {
            return existing;
        }
        requireAlive(owner);
        Node child = new Node(UUID.randomUUID().toString(), kind, name, owner, new NodeTask(threads), state.create());
        specs.put(child, normalized(spec));
        if (kind != Kind.VM) { // a VM is stored once all its parts are allocated
            try {
                persist(child);
            } catch (RuntimeException e) {
                specs.remove(child);
                freeInOwner(child);
                throw e;
            }
        }
        owner.children.add(child);
        nodes.put(child.id, child);
        return child;
    }

    private final Map<Node, Map<String, Object>> specs = new ConcurrentHashMap<>();

    /** The spec as it reads back from its stored JSON (numbers as the smallest type), so that specs compare equal across restarts. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> normalized(Map<String, Object> spec) {
        if (spec.isEmpty()) {
            return spec;
        }
        try {
            return JSON.readValue(JSON.writeValueAsBytes(spec), Map.class);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("a specification that is not JSON: " + spec, e);
        }
    }

    /**
     * Refuses, as a create would, a name the graph does not take; for callers that must check before
     * writing anything else (the API creating a default project for a network).
     */
    public static void requireValidName(Kind kind, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new GraphException(INVALID, "invalid " + kind.label() + " name '" + name
                    + "': 1 to 63 of A-Z a-z 0-9 . _ -, starting with a letter or digit");
        }
    }

    private Node existingChild(Node owner, Kind kind, String name, Map<String, Object> spec) {
        requireValidName(kind, name);
        for (Node child : owner.children) {
            if (child.kind == kind && child.name.equals(name) && !child.deleted) {
                if (!Objects.equals(specs.get(child), normalized(spec))) {
                    throw new GraphException(CONFLICT, kind.label() + " " + name + " already exists in " + owner
                            + " with a different specification " + specs.get(child));
                }
                return child;
            }
        }
        return null;
    }

    private Node removeChild(Node node) {
        store.delete(PREFIX + node.id);
        node.deleted = true;
        node.owner.children.remove(node);
        nodes.remove(node.id);
        specs.remove(node);
        return node;
    }

    private static void requireAlive(Node node) {
        if (node.deleted || node.deleting) {
            throw new GraphException(CONFLICT, node + " is being deleted");
        }
    }

    private static Node link(Node user, Node used) {
        user.uses.add(used);
        used.usedBy.add(user);
        return used;
    }

    private static Node unlink(Node user, Node used) {
        user.uses.remove(used);
        used.usedBy.remove(user);
        return used;
    }

    private long assignOffset(Node subnetNode, SubnetState subnet, Integer requested) {
        long size = subnet.cidr().size();
        if (requested == null) {
            long offset = lowestFree(subnet.usedOffsets(), 2, size - 2);
            if (offset < 0) {
                throw new GraphException(EXHAUSTED, subnetNode + " has no free address");
            }
            return offset;
        }
        long offset = Integer.toUnsignedLong(requested - subnet.cidr().address());
        String text = Ipv4Address.toString(requested);
        if (offset >= size) {
            throw new GraphException(INVALID, "address " + text + " is outside " + subnetNode + " ("
                    + Ipv4Address.toString(subnet.cidr().address()) + "/" + subnet.cidr().prefixLength() + ")");
        }
        if (offset == 0 || offset == size - 1 || offset == 1) {
            throw new GraphException(INVALID, "address " + text + " is reserved in " + subnetNode
                    + " (network, broadcast or gateway address)");
        }
        if (subnet.usedOffsets().contains(offset)) {
            throw new GraphException(CONFLICT, "address " + text + " is taken in " + subnetNode);
        }
        return offset;
    }

    // ---- plain helpers ----

    private Node find(String id, Kind kind) {
        Node node = id == null ? null : nodes.get(id);
        if (node == null || node.deleted || node.kind != kind) {
            throw new GraphException(NOT_FOUND, "no " + kind.label() + " " + id);
        }
        return node;
    }

    private static List<Node> subtree(Node root) {
        List<Node> order = new ArrayList<>();
        order.add(root);
        for (int i = 0; i < order.size(); i++) {
            order.addAll(order.get(i).children);
        }
        return order;
    }

    private static boolean overlaps(Subnet a, Subnet b) {
        int prefix = Math.min(a.prefixLength(), b.prefixLength());
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        return (a.address() & mask) == (b.address() & mask);
    }

    private interface Parse<T> {
        T run();
    }

    private static <T> T parse(Parse<T> parse, String what) {
        try {
            return parse.run();
        } catch (IllegalArgumentException e) {
            throw new GraphException(INVALID, what + ": " + e.getMessage());
        }
    }

    private static <T> T await(CompletableFuture<T> reply) {
        try {
            return reply.get();
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for a resource task", e);
        }
    }

    private Resource view(Node node) {
        Map<String, Object> attributes = new LinkedHashMap<>(specs.getOrDefault(node, Map.of()));
        switch (node.state) {
            case HostState host -> attributes.put("address", Ipv4Address.toString(host.address()));
            case NetworkState network -> attributes.put("network_id", network.networkId());
            case SubnetState subnet -> attributes.put("cidr", Ipv4Address.toString(subnet.cidr().address()) + "/"
                    + subnet.cidr().prefixLength());
            case PortState port -> {
                attributes.put("ip_address", Ipv4Address.toString(port.address()));
                attributes.put("mac_address", MacAddress.toString(MAC_PREFIX | Integer.toUnsignedLong(port.address())));
            }
            case VmState vm -> attributes.put("host_port", vm.hostPort());
            case null, default -> {
            }
        }
        return new Resource(node.id, node.kind, node.name, node.owner == null ? null : node.owner.id, attributes,
                ids(node.uses), ids(node.usedBy));
    }

    private static List<String> ids(java.util.Set<Node> set) {
        List<String> ids = new ArrayList<>();
        for (Node node : set) {
            ids.add(node.id);
        }
        Collections.sort(ids);
        return ids;
    }
}
