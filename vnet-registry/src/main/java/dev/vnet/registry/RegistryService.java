package dev.vnet.registry;

import dev.vnet.registry.StoredRecords.GatewayKeyRecord;
import dev.vnet.registry.StoredRecords.GatewayRecord;
import dev.vnet.registry.StoredRecords.LegacyGatewayRecord;
import dev.vnet.registry.StoredRecords.HostRecord;
import dev.vnet.registry.StoredRecords.NetworkRecord;
import dev.vnet.registry.StoredRecords.RuleRecord;
import dev.vnet.registry.StoredRecords.VmRecord;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.KeyValue;
import dev.vnet.store.Op;
import dev.vnet.store.Txn;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import dev.vnet.wire.VnpToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The VM registry: networks, hosts, VMs with their address, MAC, host port and secret key, allow rules
 * and gateways; and the token issue path ({@link TokenIssuer}). Address, port and MAC assignment is
 * {@link Ipam}; the store layout is {@link StoredRecords}.
 *
 * <p>The records live in a {@link ConfigStore} under a key prefix ({@link #STORE_PREFIX} for
 * {@code vnet registry}), which the registry owns: nothing else may write under it, so the in-memory
 * indexes are the truth about it between writes. Every mutation runs under one lock and in three steps:
 * check everything (a refusal throws {@link RegistryException} having changed nothing), write the store
 * (one record, or one transaction where several records change together), then update the in-memory
 * indexes. So the indexes only ever show what is durable, and a new instance over the same store
 * (after a restart or a crash) rebuilds exactly the same state from the records. Reads (listings,
 * assignments, tokens) use the concurrent indexes without the lock.
 *
 * <p><b>Gateways.</b> A network has a set of gateways (none to many, unique by name), each an agent
 * identity with an underlay address and port: several gateway processes behind one ECMP address. They
 * share the network's gateway key, made with the first gateway ({@link #setGateway}) and dropped with the
 * last ({@link #deleteGateway}), never rotated in between, so any of them verifies any egress token of
 * the network. A VM's egress (a destination outside its subnet) goes to one gateway chosen by rendezvous
 * hashing of the VM's and the gateways' names ({@link NetworkGateways}): stable per VM, spread over the
 * gateways. One identity may serve several networks, on one port or several; a network with gateways
 * cannot be deleted. Every gateway receives its networks' keys in {@link #hostAssignments}.
 *
 * <p><b>Ingress tokens</b> ({@link #issueIngressToken}): a gateway of a network asks for a token that
 * carries an outside address's packets to a VM of the network, keyed with that VM's key.
 *
 * <p><b>Additional addresses</b> ({@link #setVmAdditionalAddresses}): a VM may own more addresses than
 * its own (Neutron's allowed address pairs, such as a load balancer's VIP the VM holds itself). They are
 * stored with the VM and reach its host's agent in {@link #hostAssignments}; token issue ignores them.
 *
 * <p>Identity checks belong to the caller of this class, except where the identity is an argument
 * ({@link #hostAssignments}, {@link #requestToken}, {@link #issueIngressToken}); the gRPC layer allows
 * admin methods only to {@link #ADMIN_IDENTITY}.
 */
public final class RegistryService {
    /** The identity of the operator (a certificate CN, or anyone on the registry's Unix socket). */
    public static final String ADMIN_IDENTITY = "admin";
    public static final long MAX_NETWORK_ID = 0xFFFF_FFFFL;
    /** Where {@code vnet registry} keeps its records in its store. */
    public static final String STORE_PREFIX = "/registry/";

    private static final Logger log = LoggerFactory.getLogger(RegistryService.class);

    private final ConfigStore store;
    private final String prefix;
    private final RegistryConfig config;
    private final SecureRandom random = new SecureRandom();
    private final ReentrantLock mutations = new ReentrantLock();

    private final ConcurrentHashMap<String, NetworkEntry> networks = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Host> hosts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, VmEntry> vms = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<String>> allowedDestinationsBySource = new ConcurrentHashMap<>();

    // Guarded by `mutations`: only mutations read them.
    private final TreeMap<Long, String> networkNamesById = new TreeMap<>();
    private final Map<Integer, String> hostNamesByAddress = new HashMap<>();
    /** Per host or gateway identity: port to what uses it ("vm X", "the gateway of networks N, M"). */
    private final Map<String, TreeMap<Long, String>> portUsersByHost = new HashMap<>();
    /**
     * Whole MACs in use, with how many VMs use each. Assigned MACs (MAC_PREFIX plus a suffix) are unique
     * everywhere; a MAC a caller gives need only be unique in its network (a network is one L2 segment;
     * the controller derives MACs from addresses, and two networks may use the same subnet).
     */
    private final TreeMap<Long, Integer> usedMacs = new TreeMap<>();

    private final TokenIssuer issuer;

    /**
     * Loads the state the store holds under {@code prefix}; throws {@link IllegalStateException} naming a
     * record it cannot read.
     *
     * @param prefix where the registry's records live in the store, ending in '/' (normally {@link #STORE_PREFIX});
     *               the registry owns every key under it
     */
    public RegistryService(ConfigStore store, String prefix, RegistryConfig config) {
        if (store == null || prefix == null || !prefix.endsWith("/")) {
            throw new IllegalArgumentException("the registry needs a store and a key prefix ending in '/', not " + prefix);
        }
        this.store = store;
        this.prefix = prefix;
        this.config = config;
        this.issuer = new TokenIssuer(vms, networks, allowedDestinationsBySource, config);
        mutations.lock();
        try {
            load();
        } finally {
            mutations.unlock();
        }
    }

    /**
     * Catches up with the store when another process writes the registry's records (a controller node
     * that follows the cluster's writer). The records are read into a fresh instance, then this one's
     * indexes are brought to match it key by key, so a concurrent reader (a token request) sees each
     * entry either as it was or as it is now, never an empty registry in between.
     */
    public void refresh() {
        RegistryService fresh = new RegistryService(store, prefix, config);
        mutations.lock();
        try {
            matchKeys(networks, fresh.networks);
            matchKeys(hosts, fresh.hosts);
            matchKeys(vms, fresh.vms);
            matchKeys(allowedDestinationsBySource, fresh.allowedDestinationsBySource);
            networkNamesById.clear();
            networkNamesById.putAll(fresh.networkNamesById);
            hostNamesByAddress.clear();
            hostNamesByAddress.putAll(fresh.hostNamesByAddress);
            portUsersByHost.clear();
            portUsersByHost.putAll(fresh.portUsersByHost);
            usedMacs.clear();
            usedMacs.putAll(fresh.usedMacs);
        } finally {
            mutations.unlock();
        }
    }

    private static <K, V> void matchKeys(ConcurrentHashMap<K, V> target, Map<K, V> source) {
        target.putAll(source);
        target.keySet().retainAll(source.keySet());
    }

    public RegistryConfig config() {
        return config;
    }

    // ---------------------------------------------------------------- admin

    /**
     * @param id 1 to 2^32-1, or 0 for one more than the highest id in use (the lowest free id once that
     *           reaches the top)
     */
    public Network createNetwork(String name, long id, String subnet) {
        Names.check("network", name);
        Subnet parsed = Names.subnet(subnet);
        if (id < 0 || id > MAX_NETWORK_ID) {
            throw RegistryException.invalid("network id " + id + " is out of range 1-" + MAX_NETWORK_ID + " (0: assign one)");
        }
        return mutate(() -> {
            NetworkEntry existing = networks.get(name);
            if (existing != null) {
                Network network = existing.network;
                if (network.subnet().equals(parsed) && (id == 0 || id == network.id())) {
                    return network;
                }
                throw RegistryException.alreadyExists("network " + name + " already exists with id " + network.id() + " and subnet " + network.subnet());
            }
            if (id != 0 && networkNamesById.containsKey(id)) {
                throw RegistryException.alreadyExists("network id " + id + " is already used by network " + networkNamesById.get(id));
            }
            long assigned = id != 0 ? id : nextNetworkId();
            Network network = new Network(name, assigned, parsed);
            store.put(key(StoredRecords.NETWORKS + name), StoredRecords.encode(new NetworkRecord(name, assigned, parsed.toString())));
            index(network);
            log.info("created network {} id {} subnet {}", name, assigned, parsed);
            return network;
        });
    }

    public Host registerHost(String name, String address) {
        Names.checkIdentity("host", name);
        int parsed = Names.unicastAddress("host address", address);
        return mutate(() -> {
            Host existing = hosts.get(name);
            if (existing != null) {
                if (existing.address() == parsed) {
                    return existing;
                }
                throw RegistryException.alreadyExists("host " + name + " is already registered with address " + Ipv4Address.toString(existing.address()));
            }
            String other = hostNamesByAddress.get(parsed);
            if (other != null) {
                throw RegistryException.alreadyExists("address " + address + " is already host " + other + "'s");
            }
            Host host = new Host(name, parsed);
            store.put(key(StoredRecords.HOSTS + name), StoredRecords.encode(new HostRecord(name, address)));
            index(host);
            log.info("registered host {} at {}", name, address);
            return host;
        });
    }

    /**
     * Creates a VM with an address ({@link Ipam}), a MAC, a port on its host and a new 32-byte key, all in
     * one store record.
     *
     * @param address the address wanted, or null/empty for the lowest free one
     */
    public Vm createVm(String name, String network, String host, String address) {
        return createVm(name, network, host, address, null, 0);
    }

    /**
     * Creates a VM with what another allocator (the controller's resource graph) already chose: the MAC
     * and host port are taken as given when not null/0, and refused if another VM has them; otherwise
     * assigned as by {@link #createVm(String, String, String, String)}.
     *
     * @param mac  a unicast MAC such as {@code 02:4e:0a:00:00:02}, or null to assign one
     * @param port a port of the host's range, or 0 to assign one
     */
    public Vm createVm(String name, String network, String host, String address, String mac, int port) {
        Names.check("vm", name);
        Names.check("network", network);
        Names.check("host", host);
        Integer requested = address == null || address.isEmpty() ? null : Names.address("vm address", address);
        Long requestedMac = mac == null || mac.isEmpty() ? null : Names.unicastMac("vm mac", mac);
        if (port != 0 && (port < config.firstPort() || port > config.lastPort())) {
            throw RegistryException.invalid("port " + port + " is outside the hosts' VM port range " + config.firstPort() + "-" + config.lastPort());
        }
        return mutate(() -> {
            VmEntry existing = vms.get(name);
            if (existing != null) {
                Vm vm = existing.vm();
                if (vm.network().equals(network) && vm.host().equals(host) && (requested == null || requested == vm.address())
                        && (requestedMac == null || requestedMac == vm.mac()) && (port == 0 || port == vm.port())) {
                    return vm;
                }
                throw RegistryException.alreadyExists("vm " + name + " already exists in network " + vm.network() + " on host " + vm.host()
                        + " with address " + Ipv4Address.toString(vm.address()));
            }
            NetworkEntry networkEntry = networks.get(network);
            if (networkEntry == null) {
                throw RegistryException.notFound("network " + network + " does not exist");
            }
            Host hostEntry = hosts.get(host);
            if (hostEntry == null) {
                throw RegistryException.notFound("host " + host + " is not registered");
            }
            Subnet subnet = networkEntry.network.subnet();
            long offset = Ipam.assignAddress(network, subnet, networkEntry.vmsByOffset.navigableKeySet(), requested, networkEntry.vmsByOffset::get);
            long assignedPort;
            if (port != 0) {
                String user = portUsers(host).get((long) port);
                if (user != null) {
                    throw RegistryException.alreadyExists("port " + port + " on host " + host + " is already used by " + user);
                }
                assignedPort = port;
            } else {
                assignedPort = Ipam.lowestFree(portUsers(host).navigableKeySet(), config.firstPort(), config.lastPort());
                if (assignedPort < 0) {
                    throw RegistryException.exhausted("host " + host + " has no free port in " + config.firstPort() + "-" + config.lastPort());
                }
            }
            long assignedMac;
            if (requestedMac != null) {
                for (VmEntry other : networkEntry.vmsByAddress.values()) {
                    if (other.vm().mac() == requestedMac) {
                        throw RegistryException.alreadyExists("mac " + mac + " is already used by vm " + other.vm().name()
                                + " in network " + network);
                    }
                }
                assignedMac = requestedMac;
            } else {
                assignedMac = Ipam.lowestFree(usedMacs.navigableKeySet(), Ipam.MAC_PREFIX, Ipam.MAC_PREFIX | Ipam.MAC_SUFFIX_LAST);
                if (assignedMac < 0) {
                    throw RegistryException.exhausted("no free MAC address is left in 02:56:4e:00:00:00-02:56:4e:ff:ff:ff");
                }
            }
            byte[] key = new byte[VnpToken.KEY_LENGTH];
            random.nextBytes(key);
            Vm vm = new Vm(name, network, networkEntry.network.id(), host, subnet.addressAt(offset), assignedMac, (int) assignedPort);
            store.put(key(StoredRecords.VMS + name), StoredRecords.encode(record(vm, key)));
            index(vm, key);
            log.info("created {}", vm);
            return vm;
        });
    }

    /** Deletes a network that has no VMs and no gateways; NOT_FOUND if it does not exist. */
    public Network deleteNetwork(String name) {
        Names.check("network", name);
        return mutate(() -> {
            NetworkEntry entry = networks.get(name);
            if (entry == null) {
                throw RegistryException.notFound("network " + name + " does not exist");
            }
            NetworkGateways gateways = entry.gateways;
            if (!entry.vmsByAddress.isEmpty() || gateways != null) {
                throw RegistryException.failedPrecondition("network " + name + " still has "
                        + (entry.vmsByAddress.isEmpty() ? gateways.byName().size() + " gateways" : entry.vmsByAddress.size() + " vms"));
            }
            store.delete(key(StoredRecords.NETWORKS + name));
            networks.remove(name);
            networkNamesById.remove(entry.network.id());
            log.info("deleted network {}", name);
            return entry.network;
        });
    }

    /** Deletes a host that runs no VM and serves no gateway; NOT_FOUND if it is not registered. */
    public Host deleteHost(String name) {
        Names.check("host", name);
        return mutate(() -> {
            Host host = hosts.get(name);
            if (host == null) {
                throw RegistryException.notFound("host " + name + " is not registered");
            }
            TreeMap<Long, String> users = portUsers(name);
            if (!users.isEmpty()) {
                throw RegistryException.failedPrecondition("host " + name + " still serves " + users.firstEntry().getValue());
            }
            store.delete(key(StoredRecords.HOSTS + name));
            hosts.remove(name);
            hostNamesByAddress.remove(host.address());
            portUsersByHost.remove(name);
            log.info("deleted host {}", name);
            return host;
        });
    }

    /**
     * Deletes a VM and every allow rule naming it, in one store transaction: no state, not even after a
     * crash, has the VM without its rules or a rule naming a VM that is gone.
     */
    public Vm deleteVm(String name) {
        Names.check("vm", name);
        return mutate(() -> {
            VmEntry entry = vms.get(name);
            if (entry == null) {
                throw RegistryException.notFound("vm " + name + " does not exist");
            }
            List<AllowRule> rules = allowRules().stream()
                    .filter(rule -> rule.sourceVm().equals(name) || rule.destinationVm().equals(name)).toList();
            List<Op> deletes = new ArrayList<>();
            for (AllowRule rule : rules) {
                deletes.add(Op.delete(key(StoredRecords.ruleKey(rule.sourceVm(), rule.destinationVm()))));
            }
            deletes.add(Op.delete(key(StoredRecords.VMS + name)));
            store.commit(Txn.begin().then(deletes.toArray(Op[]::new)));
            rules.forEach(this::unindex);
            Vm vm = entry.vm();
            vms.remove(name);
            entry.network().vmsByAddress.remove(vm.address());
            entry.network().vmsByOffset.remove(entry.network().network.subnet().offsetOf(vm.address()));
            portUsers(vm.host()).remove((long) vm.port());
            usedMacs.computeIfPresent(vm.mac(), (mac, users) -> users == 1 ? null : users - 1);
            log.info("deleted {}", vm);
            return vm;
        });
    }

    /**
     * Makes {@code addresses} the VM's additional addresses (Neutron's allowed address pairs: a load
     * balancer's VIP the VM holds itself), replacing the ones it had; an empty list removes them. They are
     * kept in ascending order, so the same addresses in another order are no change and write nothing.
     * Each must be unicast, listed once and not the VM's own address. They need not be in the VM's
     * subnet (VIPs are often public addresses) and other VMs may list them too (a VIP that moves between
     * VMs). The VM's host agent learns them from {@link #hostAssignments}; token issue ignores them.
     */
    public Vm setVmAdditionalAddresses(String vm, List<Integer> addresses) {
        Names.check("vm", vm);
        if (addresses == null) {
            throw RegistryException.invalid("the additional addresses of vm " + vm + " are missing; an empty list removes them");
        }
        return mutate(() -> {
            VmEntry entry = vms.get(vm);
            if (entry == null) {
                throw RegistryException.notFound("vm " + vm + " does not exist");
            }
            Vm current = entry.vm();
            List<Integer> checked = additionalAddresses(vm, current.address(), addresses);
            if (checked.equals(current.additionalAddresses())) {
                return current;
            }
            Vm updated = current.withAdditionalAddresses(checked);
            store.put(key(StoredRecords.VMS + vm), StoredRecords.encode(record(updated, entry.key())));
            VmEntry replacement = new VmEntry(updated, entry.key(), entry.host(), entry.network());
            entry.network().vmsByAddress.put(updated.address(), replacement);
            vms.put(vm, replacement);
            log.info("vm {} has additional addresses {}", vm, updated.additionalAddresses().stream().map(Ipv4Address::toString).toList());
            return updated;
        });
    }

    /** {@code addresses} checked as a VM's additional addresses, in ascending unsigned order. */
    private static List<Integer> additionalAddresses(String vm, int ownAddress, List<Integer> addresses) {
        TreeSet<Integer> sorted = new TreeSet<>(Integer::compareUnsigned);
        for (Integer address : addresses) {
            if (address == null) {
                throw RegistryException.invalid("an additional address of vm " + vm + " is missing");
            }
            String text = Ipv4Address.toString(address);
            if (!Names.isUnicast(address)) {
                throw RegistryException.invalid("additional address " + text + " of vm " + vm + " is not a unicast address");
            }
            if (address == ownAddress) {
                throw RegistryException.invalid("additional address " + text + " is vm " + vm + "'s own address");
            }
            if (!sorted.add(address)) {
                throw RegistryException.invalid("additional address " + text + " of vm " + vm + " is listed twice");
            }
        }
        return List.copyOf(sorted);
    }

    public AllowRule allowPair(String sourceVm, String destinationVm) {
        Names.check("source vm", sourceVm);
        Names.check("destination vm", destinationVm);
        if (sourceVm.equals(destinationVm)) {
            throw RegistryException.invalid("vm " + sourceVm + " always reaches itself; an allow rule needs two different vms");
        }
        return mutate(() -> {
            for (String vm : List.of(sourceVm, destinationVm)) {
                if (!vms.containsKey(vm)) {
                    throw RegistryException.notFound("vm " + vm + " does not exist");
                }
            }
            AllowRule rule = new AllowRule(sourceVm, destinationVm);
            Set<String> destinations = allowedDestinationsBySource.get(sourceVm);
            if (destinations != null && destinations.contains(destinationVm)) {
                return rule;
            }
            store.put(key(StoredRecords.ruleKey(sourceVm, destinationVm)), StoredRecords.encode(new RuleRecord(sourceVm, destinationVm)));
            index(rule);
            log.info("allowed {} -> {}", sourceVm, destinationVm);
            return rule;
        });
    }

    /**
     * Adds gateway {@code name} (an agent identity) to {@code network}'s gateway set, or replaces the
     * gateway of that name in it. The network's gateway key is made with its first gateway and kept while
     * it has any, so every gateway of the network verifies every egress token and a change of gateways
     * invalidates none. The same parameters again return the existing gateway and write nothing.
     *
     * <p>A gateway's port on its identity is taken like a VM's: no VM of a host of that name may use it.
     * One identity may serve several networks on the same port (one gateway process for many networks).
     *
     * @param address the gateway's underlay address, or null/empty for that of the registered host {@code name}
     */
    public Gateway setGateway(String network, String name, String address, long port) {
        Names.check("network", network);
        Names.checkIdentity("gateway", name);
        int gatewayPort = Names.port("gateway port", port);
        Integer requested = address == null || address.isEmpty() ? null : Names.unicastAddress("gateway address", address);
        return mutate(() -> {
            NetworkEntry entry = networks.get(network);
            if (entry == null) {
                throw RegistryException.notFound("network " + network + " does not exist");
            }
            Host host = hosts.get(name);
            int gatewayAddress;
            if (requested == null) {
                if (host == null) {
                    throw RegistryException.notFound("gateway " + name + " is not a registered host; give its underlay address");
                }
                gatewayAddress = host.address();
            } else {
                if (host != null && host.address() != requested) {
                    throw RegistryException.invalid("host " + name + "'s underlay address is " + Ipv4Address.toString(host.address())
                            + ", not " + address);
                }
                gatewayAddress = requested;
            }
            Gateway gateway = new Gateway(network, name, gatewayAddress, gatewayPort);
            NetworkGateways current = entry.gateways;
            Optional<Gateway> replaced = current == null ? Optional.empty() : current.named(name);
            if (replaced.isPresent() && replaced.get().equals(gateway)) {
                return gateway;
            }
            String user = portUsers(name).get((long) gatewayPort);
            if (user != null && gatewayNetworks(name, gatewayPort).isEmpty()) {
                throw RegistryException.alreadyExists("port " + gatewayPort + " on host " + name + " is already used by " + user);
            }
            NetworkGateways updated;
            if (current == null) {
                byte[] key = new byte[VnpToken.KEY_LENGTH];
                random.nextBytes(key);
                updated = new NetworkGateways(key, List.of(gateway));
                store.commit(Txn.begin().then(
                        Op.put(key(StoredRecords.GATEWAY_KEYS + network), StoredRecords.encode(new GatewayKeyRecord(network, key))),
                        Op.put(key(StoredRecords.gatewayKey(network, name)), StoredRecords.encode(record(gateway)))));
            } else {
                updated = current.with(gateway);
                store.put(key(StoredRecords.gatewayKey(network, name)), StoredRecords.encode(record(gateway)));
            }
            entry.gateways = updated;
            replaced.ifPresent(old -> updateGatewayPort(old.name(), old.port()));
            updateGatewayPort(name, gatewayPort);
            log.info("set {}{}", gateway, current == null ? " with a new network gateway key" : "");
            return gateway;
        });
    }

    /**
     * Removes gateway {@code name} from {@code network}'s set; with the last one the network's gateway key
     * is dropped (in the same transaction), so a later first gateway gets a new one. NOT_FOUND if the
     * network has no gateway of that name.
     */
    public Gateway deleteGateway(String network, String name) {
        Names.check("network", network);
        Names.check("gateway", name);
        return mutate(() -> {
            NetworkEntry entry = networks.get(network);
            if (entry == null) {
                throw RegistryException.notFound("network " + network + " does not exist");
            }
            NetworkGateways current = entry.gateways;
            Gateway gateway = (current == null ? Optional.<Gateway>empty() : current.named(name)).orElseThrow(() ->
                    RegistryException.notFound("network " + network + " has no gateway " + name));
            NetworkGateways remaining = current.without(name);
            if (remaining == null) {
                store.commit(Txn.begin().then(Op.delete(key(StoredRecords.gatewayKey(network, name))),
                        Op.delete(key(StoredRecords.GATEWAY_KEYS + network))));
            } else {
                store.delete(key(StoredRecords.gatewayKey(network, name)));
            }
            entry.gateways = remaining;
            updateGatewayPort(name, gateway.port());
            log.info("deleted {}{}", gateway, remaining == null ? " and the network's gateway key" : "");
            return gateway;
        });
    }

    public List<Network> networks() {
        return networks.values().stream().map(e -> e.network).sorted(Comparator.comparing(Network::name)).toList();
    }

    public Optional<Host> host(String name) {
        return Optional.ofNullable(name == null ? null : hosts.get(name));
    }

    public List<Host> hosts() {
        return hosts.values().stream().sorted(Comparator.comparing(Host::name)).toList();
    }

    public Optional<Vm> vm(String name) {
        VmEntry entry = name == null ? null : vms.get(name);
        return Optional.ofNullable(entry == null ? null : entry.vm());
    }

    public List<Vm> vms() {
        return vms.values().stream().map(VmEntry::vm).sorted(Comparator.comparing(Vm::name)).toList();
    }

    /** The VMs of one network, by address; empty if the network does not exist. */
    public List<Vm> vmsOf(String network) {
        NetworkEntry entry = networks.get(network);
        return entry == null ? List.of() : entry.vmsByAddress.values().stream().map(VmEntry::vm).toList();
    }

    public List<AllowRule> allowRules() {
        List<AllowRule> rules = new ArrayList<>();
        allowedDestinationsBySource.forEach((source, destinations) -> destinations.forEach(d -> rules.add(new AllowRule(source, d))));
        rules.sort(Comparator.comparing(AllowRule::sourceVm).thenComparing(AllowRule::destinationVm));
        return rules;
    }

    /** Every network's gateways, by network and name. */
    public List<Gateway> gateways() {
        return networks.values().stream().map(e -> e.gateways).filter(g -> g != null).flatMap(g -> g.byName().stream())
                .sorted(Comparator.comparing(Gateway::network).thenComparing(Gateway::name)).toList();
    }

    // ---------------------------------------------------------------- agents

    /**
     * Everything the agent of host or gateway {@code identity} serves, with the keys: the only way keys
     * leave the registry. The VMs come with their additional addresses; the gateways are one per network
     * the identity is a gateway of, each with that network's gateway key. NOT_FOUND when the identity is
     * neither a registered host nor any network's gateway.
     */
    public HostAssignments hostAssignments(String identity) {
        Host host = identity == null ? null : hosts.get(identity);
        List<VmAssignment> ownVms = vms.values().stream().filter(e -> e.host().name().equals(identity))
                .sorted(Comparator.comparing(e -> e.vm().name()))
                .map(e -> new VmAssignment(e.vm(), e.network().network.subnet(), e.key())).toList();
        List<GatewayAssignment> ownGateways = new ArrayList<>();
        networks.values().stream().sorted(Comparator.comparing(e -> e.network.name())).forEach(e -> {
            NetworkGateways gateways = e.gateways;
            if (gateways != null) {
                gateways.named(identity).ifPresent(gateway ->
                        ownGateways.add(new GatewayAssignment(gateway, e.network.id(), e.network.subnet(), gateways.key())));
            }
        });
        if (host == null && ownGateways.isEmpty()) {
            throw RegistryException.notFound("no host or gateway named " + identity + " is registered");
        }
        return new HostAssignments(identity, host == null ? 0 : host.address(), ownVms, ownGateways, config.tokenTtl(), config.clockSkew());
    }

    /**
     * Issues a token for {@code sourceVm}'s packets to {@code destinationAddress}; see {@link TokenIssuer}
     * for the checks and their order.
     *
     * @param callerHost         the authenticated identity of the calling agent
     * @param destinationNetwork null or empty: the source VM's network
     */
    public TokenGrant requestToken(String callerHost, String sourceVm, int destinationAddress, String destinationNetwork) {
        return issuer.issue(callerHost, sourceVm, destinationAddress, destinationNetwork);
    }

    /**
     * Issues a token for gateway {@code callerIdentity}'s packets from outside address {@code sourceAddress}
     * to the VM with {@code destinationAddress} in {@code network}; see {@link TokenIssuer} for the checks
     * and their order. The grant is the VM's host and port, kind VM.
     *
     * @param callerIdentity the authenticated identity of the calling gateway agent
     */
    public TokenGrant issueIngressToken(String callerIdentity, String network, int sourceAddress, int destinationAddress) {
        return issuer.issueIngress(callerIdentity, network, sourceAddress, destinationAddress);
    }

    // ---------------------------------------------------------------- internals

    private <T> T mutate(Supplier<T> mutation) {
        mutations.lock();
        try {
            return mutation.get();
        } finally {
            mutations.unlock();
        }
    }

    private long nextNetworkId() {
        long next = networkNamesById.isEmpty() ? 1 : networkNamesById.lastKey() + 1;
        if (next > MAX_NETWORK_ID) {
            next = Ipam.lowestFree(networkNamesById.navigableKeySet(), 1, MAX_NETWORK_ID);
            if (next < 0) {
                throw RegistryException.exhausted("every network id is in use");
            }
        }
        return next;
    }

    /** The store key of a record ({@link StoredRecords} names them relative to the prefix). */
    private String key(String record) {
        return prefix + record;
    }

    private TreeMap<Long, String> portUsers(String hostIdentity) {
        return portUsersByHost.computeIfAbsent(hostIdentity, h -> new TreeMap<>());
    }

    private void index(Network network) {
        networks.put(network.name(), new NetworkEntry(network));
        networkNamesById.put(network.id(), network.name());
    }

    private void index(Host host) {
        hosts.put(host.name(), host);
        hostNamesByAddress.put(host.address(), host.name());
    }

    private void index(Vm vm, byte[] key) {
        NetworkEntry network = networks.get(vm.network());
        VmEntry entry = new VmEntry(vm, key, hosts.get(vm.host()), network);
        network.vmsByOffset.put(network.network.subnet().offsetOf(vm.address()), vm.name());
        portUsers(vm.host()).put((long) vm.port(), "vm " + vm.name());
        usedMacs.merge(vm.mac(), 1, Integer::sum);
        network.vmsByAddress.put(vm.address(), entry);
        vms.put(vm.name(), entry);
    }

    private void index(AllowRule rule) {
        allowedDestinationsBySource.computeIfAbsent(rule.sourceVm(), s -> ConcurrentHashMap.newKeySet()).add(rule.destinationVm());
    }

    private void unindex(AllowRule rule) {
        allowedDestinationsBySource.computeIfPresent(rule.sourceVm(), (source, destinations) -> {
            destinations.remove(rule.destinationVm());
            return destinations.isEmpty() ? null : destinations;
        });
    }

    /** The networks (by name) where identity {@code name} is a gateway on {@code port}. */
    private List<String> gatewayNetworks(String name, int port) {
        return networks.values().stream().filter(e -> {
            NetworkGateways gateways = e.gateways;
            return gateways != null && gateways.named(name).filter(g -> g.port() == port).isPresent();
        }).map(e -> e.network.name()).sorted().toList();
    }

    /**
     * Brings the port user entry of a gateway port in line with the gateway sets, after they changed:
     * the port is used while any network has gateway {@code name} on it, and the entry names them all.
     */
    private void updateGatewayPort(String name, int port) {
        List<String> served = gatewayNetworks(name, port);
        if (served.isEmpty()) {
            portUsers(name).remove((long) port);
        } else {
            portUsers(name).put((long) port, gatewayPortUser(served));
        }
    }

    /** What uses a gateway port, for refusals: "the gateway of network blue", "... of networks blue, red". */
    private static String gatewayPortUser(List<String> servedNetworks) {
        return "the gateway of network" + (servedNetworks.size() == 1 ? " " : "s ") + String.join(", ", servedNetworks);
    }

    private static VmRecord record(Vm vm, byte[] key) {
        return new VmRecord(vm.name(), vm.network(), vm.host(), Ipv4Address.toString(vm.address()), MacAddress.toString(vm.mac()), vm.port(), key,
                vm.additionalAddresses().stream().map(Ipv4Address::toString).toList());
    }

    private static GatewayRecord record(Gateway gateway) {
        return new GatewayRecord(gateway.network(), gateway.name(), Ipv4Address.toString(gateway.address()), gateway.port());
    }

    /**
     * Rebuilds the indexes from the records (read at one revision), in dependency order. A record that
     * cannot be read, or names a network or host that does not exist, stops the start: serving a partial
     * state would hand out addresses and ports already taken. Only an allow rule naming a missing VM is
     * repaired (deleted), since it allows nothing and would otherwise apply to a future VM of that name;
     * and gateway records of the single-gateway layout are rewritten in the current one
     * ({@link StoredRecords}). The repairs are one transaction, tried only by a registry that may write.
     */
    private void load() {
        List<KeyValue> records = store.range(prefix).entries();
        forEachRecord(records, StoredRecords.NETWORKS, (key, value) -> {
            NetworkRecord record = StoredRecords.decode(key, value, NetworkRecord.class);
            Network network = loaded(key, () -> new Network(Names.check("network", record.name()), record.id(), Names.subnet(record.subnet())));
            if (network.id() < 1 || network.id() > MAX_NETWORK_ID || networkNamesById.containsKey(network.id())) {
                throw new IllegalStateException("store record " + key + ": network id " + network.id() + " is out of range or used twice");
            }
            index(network);
        });
        forEachRecord(records, StoredRecords.HOSTS, (key, value) -> {
            HostRecord record = StoredRecords.decode(key, value, HostRecord.class);
            index(loaded(key, () -> new Host(Names.check("host", record.name()), Names.unicastAddress("host address", record.address()))));
        });
        List<Op> repairs = new ArrayList<>();
        loadGateways(records, repairs);
        forEachRecord(records, StoredRecords.VMS, (key, value) -> {
            VmRecord record = StoredRecords.decode(key, value, VmRecord.class);
            NetworkEntry network = networks.get(record.network());
            if (network == null || !hosts.containsKey(record.host())) {
                throw new IllegalStateException("store record " + key + ": network " + record.network() + " or host " + record.host() + " does not exist");
            }
            if (record.key() == null || record.key().length != VnpToken.KEY_LENGTH) {
                throw new IllegalStateException("store record " + key + ": the key is not " + VnpToken.KEY_LENGTH + " bytes");
            }
            Vm vm = loaded(key, () -> {
                int address = Names.address("vm address", record.address());
                List<String> additional = record.additionalAddresses() == null ? List.of() : record.additionalAddresses();
                return new Vm(Names.check("vm", record.name()), record.network(), network.network.id(), record.host(), address,
                        MacAddress.parse(record.mac()), record.port(),
                        additionalAddresses(record.name(), address, additional.stream().map(a -> Names.address("additional address", a)).toList()));
            });
            if (!network.network.subnet().contains(vm.address()) || network.vmsByAddress.containsKey(vm.address())
                    || portUsers(vm.host()).containsKey((long) vm.port())
                    || network.vmsByAddress.values().stream().anyMatch(other -> other.vm().mac() == vm.mac())) {
                throw new IllegalStateException("store record " + key + ": its address, port or MAC is outside its range or used twice");
            }
            index(vm, Arrays.copyOf(record.key(), record.key().length));
        });
        forEachRecord(records, StoredRecords.RULES, (key, value) -> {
            RuleRecord record = StoredRecords.decode(key, value, RuleRecord.class);
            if (vms.containsKey(record.source()) && vms.containsKey(record.destination())) {
                index(new AllowRule(record.source(), record.destination()));
            } else {
                log.warn("deleting allow rule {} -> {}: a vm it names does not exist", record.source(), record.destination());
                repairs.add(Op.delete(key));
            }
        });
        if (!repairs.isEmpty()) {
            try {
                store.commit(Txn.begin().then(repairs.toArray(Op[]::new)));
            } catch (RuntimeException e) {
                // A reader that may not write (a controller node that is not the writer): the writer repairs.
                log.warn("leaving {} store repairs (dangling allow rules, gateway records to rewrite) for the store's writer: {}",
                        repairs.size(), e.getMessage());
            }
        }
        log.info("loaded {} networks, {} hosts, {} vms, {} allow rules, {} gateways", networks.size(), hosts.size(), vms.size(),
                allowRules().size(), gateways().size());
    }

    /**
     * Loads the gateway sets: each network's key record, then its gateway records. A gateway without its
     * network's key, or a key without gateways, cannot come from {@link #setGateway}/{@link #deleteGateway}
     * (they write both in one transaction): the first stops the start, the second is deleted (it keys
     * nothing). A record of the single-gateway layout becomes the network's key and only gateway, and is
     * queued in {@code repairs} to be rewritten.
     */
    private void loadGateways(List<KeyValue> records, List<Op> repairs) {
        Map<String, byte[]> keysByNetwork = new TreeMap<>();
        Map<String, List<Gateway>> gatewaysByNetwork = new TreeMap<>();
        forEachRecord(records, StoredRecords.GATEWAY_KEYS, (key, value) -> {
            GatewayKeyRecord record = StoredRecords.decode(key, value, GatewayKeyRecord.class);
            if (!key.equals(key(StoredRecords.GATEWAY_KEYS + record.network())) || !networks.containsKey(record.network())
                    || record.key() == null || record.key().length != VnpToken.KEY_LENGTH) {
                throw new IllegalStateException("store record " + key + ": unknown network " + record.network() + " or a key that is not "
                        + VnpToken.KEY_LENGTH + " bytes");
            }
            keysByNetwork.put(record.network(), Arrays.copyOf(record.key(), record.key().length));
        });
        forEachRecord(records, StoredRecords.GATEWAYS, (key, value) -> {
            boolean legacy = key.indexOf('/', key(StoredRecords.GATEWAYS).length()) < 0;
            Gateway gateway;
            if (legacy) {
                LegacyGatewayRecord record = StoredRecords.decode(key, value, LegacyGatewayRecord.class);
                gateway = loadedGateway(key, record.network(), record.name(), record.address(), record.port());
                if (record.key() == null || record.key().length != VnpToken.KEY_LENGTH || keysByNetwork.containsKey(gateway.network())) {
                    throw new IllegalStateException("store record " + key + ": a key that is not " + VnpToken.KEY_LENGTH
                            + " bytes, or network " + gateway.network() + " also has a gateway key record");
                }
                byte[] networkKey = Arrays.copyOf(record.key(), record.key().length);
                keysByNetwork.put(gateway.network(), networkKey);
                log.info("rewriting the single-gateway record {} as a gateway set", key);
                repairs.add(Op.delete(key));
                repairs.add(Op.put(key(StoredRecords.GATEWAY_KEYS + gateway.network()),
                        StoredRecords.encode(new GatewayKeyRecord(gateway.network(), networkKey))));
                repairs.add(Op.put(key(StoredRecords.gatewayKey(gateway.network(), gateway.name())), StoredRecords.encode(record(gateway))));
            } else {
                GatewayRecord record = StoredRecords.decode(key, value, GatewayRecord.class);
                gateway = loadedGateway(key, record.network(), record.name(), record.address(), record.port());
                if (!key.equals(key(StoredRecords.gatewayKey(gateway.network(), gateway.name())))) {
                    throw new IllegalStateException("store record " + key + ": it names gateway " + gateway.name() + " of network "
                            + gateway.network());
                }
            }
            if (!keysByNetwork.containsKey(gateway.network())) {
                throw new IllegalStateException("store record " + key + ": network " + gateway.network() + " has no gateway key record");
            }
            List<Gateway> gateways = gatewaysByNetwork.computeIfAbsent(gateway.network(), n -> new ArrayList<>());
            if (gateways.stream().anyMatch(g -> g.name().equals(gateway.name()))) {
                throw new IllegalStateException("store record " + key + ": network " + gateway.network() + " has gateway "
                        + gateway.name() + " twice");
            }
            gateways.add(gateway);
        });
        Map<String, Map<Integer, List<String>>> servedByIdentityAndPort = new TreeMap<>();
        keysByNetwork.forEach((network, networkKey) -> {
            List<Gateway> gateways = gatewaysByNetwork.get(network);
            if (gateways == null) {
                log.warn("deleting network {}'s gateway key: the network has no gateway", network);
                repairs.add(Op.delete(key(StoredRecords.GATEWAY_KEYS + network)));
                return;
            }
            networks.get(network).gateways = new NetworkGateways(networkKey, gateways);
            for (Gateway gateway : gateways) {
                servedByIdentityAndPort.computeIfAbsent(gateway.name(), n -> new TreeMap<>())
                        .computeIfAbsent(gateway.port(), p -> new ArrayList<>()).add(network);
            }
        });
        // Per identity and port rather than updateGatewayPort per gateway, which scans every network each time.
        servedByIdentityAndPort.forEach((name, ports) ->
                ports.forEach((port, served) -> portUsers(name).put((long) port, gatewayPortUser(served))));
    }

    private Gateway loadedGateway(String key, String network, String name, String address, int port) {
        if (network == null || !networks.containsKey(network)) {
            throw new IllegalStateException("store record " + key + ": network " + network + " does not exist");
        }
        return loaded(key, () -> new Gateway(network, Names.checkIdentity("gateway", name),
                Names.unicastAddress("gateway address", address), Names.port("gateway port", port)));
    }

    /** Hands each record of one kind to {@code action} with its full store key. */
    private void forEachRecord(List<KeyValue> records, String kind, BiConsumer<String, byte[]> action) {
        String kindPrefix = key(kind);
        for (KeyValue record : records) {
            if (record.key().startsWith(kindPrefix)) {
                action.accept(record.key(), record.value());
            }
        }
    }

    private static <T> T loaded(String key, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (RegistryException | IllegalArgumentException e) {
            throw new IllegalStateException("store record " + key + ": " + e.getMessage(), e);
        }
    }
}
