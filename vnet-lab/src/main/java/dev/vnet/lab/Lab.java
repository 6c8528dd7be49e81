package dev.vnet.lab;

import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.CountersReader;

import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Builds and removes labs: hosts as network namespaces on a bridged veth underlay, a real agent process
 * per host, a controller process in its own namespace on the underlay, and VMs as namespaces whose only
 * NIC is a TAP held by their host's agent. The lab issues the certificates, starts the controller and
 * the agents, and then builds everything else through the controller's REST API (on its Unix socket):
 * hosts, networks with their subnets, VMs with their ports. Each agent learns from the controller which
 * VMs it runs and creates their namespaces and TAPs itself; the lab waits until every host has applied
 * the last change.
 *
 * <pre>
 *   fabric ns:  br0 ── u1 ── controller ns 10.255.0.254 (vnet controller)
 *                │── u2 ─┐          ┌─ u3 ──│
 *                        │ veth     │ veth
 *   host1 ns:   underlay0 10.255.0.1  underlay0 10.255.0.2   :host2 ns
 *               agent (vnet agent)    agent (vnet agent)
 *                 │ TAP fd  │ TAP fd     │ TAP fd
 *   VM ns:      eth0      eth0         eth0
 * </pre>
 *
 * With {@code gateways:} in the topology the lab also builds a public side, the way a provider's edge
 * looks from outside: a namespace per gateway on the underlay (like a host, running {@code vnet gateway}),
 * a client namespace, and a router namespace between them that reaches each gateway over its own /30
 * link and routes the VIP prefix to all of them at once (Linux ECMP multipath, L4 hash policy), so
 * flows spread over the gateways as an upstream router would spread them. The gateway links' MTU is the
 * underlay's minus the tunnel's overhead (44), so what a client sends fits the tunnel to a VM.
 *
 * <pre>
 *   public ns:  eth0 192.0.2.2/24 (the clients; default via 192.0.2.1)
 *                │ veth
 *   router ns:  clients0 192.0.2.1/24      ip_forward, fib_multipath_hash_policy=1
 *               203.0.113.0/24 nexthop via 198.19.1.2 dev g1 nexthop via 198.19.2.2 dev g2
 *               198.18.0.1/32 via 198.19.1.2 dev g1   198.18.0.2/32 via 198.19.2.2 dev g2
 *               g1 198.19.1.1/30 ─┐               g2 198.19.2.1/30 ─┐   (MTU = underlay - 44)
 *                      veth       │                      veth       │
 *   gw1 ns:     public0 198.19.1.2/30      gw2 ns:   public0 198.19.2.2/30   default via .1, rp_filter 0
 *               underlay0 10.255.0.21 ── br0 ──      underlay0 10.255.0.22   (vnet gateway)
 * </pre>
 *
 * Every creation is journaled first ({@link LabState}); {@link #down} uses the journal and, as a
 * fallback, the {@code vn-<lab>-} name prefix, so it also cleans up after a crashed {@code lab up}.
 */
public final class Lab {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(40);
    private static final String CONTROLLER_ROLE = "controller";
    /** The name of the controller's certificate in the lab's PKI directory. */
    public static final String CONTROLLER_CERTIFICATE = "controller";

    /** The command that runs {@code vnet}; the lab appends {@code controller ...}, {@code agent ...} or {@code gateway ...}. */
    public record Launcher(List<String> vnetCommand) {
    }

    private Lab() {
    }

    /** Creates the lab; on failure removes whatever it created and rethrows. */
    public static RunningLab up(Topology topology, Launcher launcher) {
        preflight();
        String name = topology.name();
        if (LabState.load(name).isPresent() || !namespacesOf(name).isEmpty()) {
            throw new LabException("lab '" + name + "' is already up; remove it with: vnet lab down " + name);
        }
        LabState state = LabState.create(name);
        try {
            issueCertificates(topology);
            createUnderlay(topology, state);
            createEdge(topology, state);
            if (topology.controllerNodes() > 1) {
                startEtcd(topology, state);
            }
            Process controller = startController(topology, 0, launcher, state);
            for (int node = 1; node < topology.controllerNodes(); node++) {
                startController(topology, node, launcher, state);
            }
            List<Process> agents = new ArrayList<>();
            for (Topology.Host host : topology.hosts()) {
                agents.add(startAgent(topology, host.name(), launcher, state));
            }
            List<Vm> vms;
            try (ApiClient api = awaitController(name, controller)) {
                LabApi.Built built = LabApi.build(topology, api);
                vms = built.vms();
                for (int i = 0; i < agents.size(); i++) {
                    awaitAgent(name, topology.hosts().get(i).name(), agents.get(i));
                }
                SyncStatus sync = api.awaitSync(built.version(), START_TIMEOUT);
                if (!sync.complete()) {
                    throw new LabException("hosts " + sync.pendingHosts() + " did not apply the lab's VMs within "
                            + START_TIMEOUT.toSeconds() + " s; see their logs in " + LabNames.labDir(name));
                }
            }
            // The gateways register with the controller and read the load balancers from its API, so
            // they start once the controller answers and the topology is built.
            List<Process> gateways = new ArrayList<>();
            for (Topology.Gateway gateway : topology.gatewayList()) {
                gateways.add(startGateway(topology, gateway, launcher, state));
            }
            for (int i = 0; i < gateways.size(); i++) {
                awaitGateway(name, topology.gatewayList().get(i).name(), gateways.get(i));
            }
            state.phase("up");
            return new RunningLab(topology, vms);
        } catch (RuntimeException e) {
            try {
                down(name);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** A VM as the controller assigned it; its agent created the namespace and named its NIC {@code eth0}. */
    public record Vm(String name, String network, String host, String address, int prefixLength, String mac, int port,
                     String namespace) {
    }

    private static void preflight() {
        if (!isRoot()) {
            throw new LabException("the lab creates network namespaces and TAP devices: run as root (sudo)");
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            throw new LabException("/dev/net/tun is missing: the kernel needs the tun module (modprobe tun)");
        }
        for (String tool : List.of("ip", "setsid")) {
            if (!Shell.run("sh", "-c", "command -v " + tool).ok()) {
                throw new LabException(tool + " is not installed (apt-get install iproute2 util-linux)");
            }
        }
    }

    /** Whether this process runs with root's effective user id (what namespaces and TAP devices need). */
    public static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).findFirst()
                    .map(l -> l.split("\\s+")[2].equals("0")).orElse(false);
        } catch (IOException e) {
            return false;
        }
    }

    /** A small CA for the lab: the controller's server certificate and one client certificate per host. */
    private static void issueCertificates(Topology topology) {
        Path pki = LabNames.pkiDir(topology.name());
        try {
            CertificateAuthority ca = CertificateAuthority.create(pki, "vnet-lab-" + topology.name() + "-ca");
            List<InetAddress> controllerAddresses = new ArrayList<>();
            for (int node = 0; node < topology.controllerNodes(); node++) {
                controllerAddresses.add(InetAddress.getByName(topology.controllerAddress(node)));
            }
            ca.issue(CONTROLLER_CERTIFICATE, controllerAddresses, pki);
            for (Topology.Host host : topology.hosts()) {
                ca.issue(host.name(), List.of(), pki);
            }
            for (Topology.Gateway gateway : topology.gatewayList()) {
                ca.issue(gateway.name(), List.of(), pki);
            }
        } catch (IOException e) {
            throw new LabException("cannot issue the lab's certificates in " + pki + ": " + e.getMessage(), e);
        }
    }

    static void createUnderlay(Topology topology, LabState state) {
        String lab = topology.name();
        String fabric = LabNames.fabricNamespace(lab);
        addNamespace(fabric, state);
        ip("-n", fabric, "link", "add", LabNames.BRIDGE, "type", "bridge");
        ip("-n", fabric, "link", "set", LabNames.BRIDGE, "up");
        int index = 0;
        for (int node = 0; node < topology.controllerNodes(); node++) {
            attachToUnderlay(topology, LabNames.controllerNamespace(lab, node), topology.controllerAddress(node), ++index, state);
        }
        for (Topology.Host host : topology.hosts()) {
            attachToUnderlay(topology, LabNames.hostNamespace(lab, host.name()), host.address(), ++index, state);
        }
        for (Topology.Gateway gateway : topology.gatewayList()) {
            attachToUnderlay(topology, LabNames.gatewayNamespace(lab, gateway.name()), gateway.address(), ++index, state);
        }
    }

    /**
     * The public side of a lab with gateways (see the class comment): the clients' namespace, the router
     * namespace with a /30 link to every gateway's namespace (already on the underlay) and an ECMP route
     * for the VIP prefix over all of them. Does nothing without gateways.
     */
    static void createEdge(Topology topology, LabState state) {
        if (!topology.hasGateways()) {
            return;
        }
        String lab = topology.name();
        String router = LabNames.routerNamespace(lab);
        String clients = LabNames.publicNamespace(lab);
        addNamespace(router, state);
        addNamespace(clients, state);
        String mtu = Integer.toString(topology.mtu());
        ip("-n", router, "link", "add", LabNames.ROUTER_PUBLIC_DEVICE, "mtu", mtu, "type", "veth",
                "peer", "name", LabNames.CLIENT_NIC, "netns", clients, "mtu", mtu);
        ip("-n", router, "addr", "add", topology.publicRouterAddress() + "/" + topology.publicPrefixLength(),
                "dev", LabNames.ROUTER_PUBLIC_DEVICE);
        ip("-n", router, "link", "set", LabNames.ROUTER_PUBLIC_DEVICE, "up");
        ip("-n", clients, "addr", "add", topology.publicClientAddress() + "/" + topology.publicPrefixLength(),
                "dev", LabNames.CLIENT_NIC);
        ip("-n", clients, "link", "set", LabNames.CLIENT_NIC, "up");
        ip("-n", clients, "route", "add", "default", "via", topology.publicRouterAddress(), "dev", LabNames.CLIENT_NIC);
        sysctl(router, "net.ipv4.ip_forward", "1");
        sysctl(router, "net.ipv4.fib_multipath_hash_policy", "1");
        String edgeMtu = Integer.toString(topology.edgeMtu());
        List<Integer> indices = new ArrayList<>();
        for (Topology.Gateway gateway : topology.gatewayList()) {
            int index = topology.gatewayIndex(gateway.name());
            indices.add(index);
            String namespace = LabNames.gatewayNamespace(lab, gateway.name());
            String device = LabNames.routerGatewayDevice(index);
            String link = LabNames.GATEWAY_PUBLIC_DEVICE;
            ip("-n", router, "link", "add", device, "mtu", edgeMtu, "type", "veth",
                    "peer", "name", link, "netns", namespace, "mtu", edgeMtu);
            ip("-n", router, "addr", "add", Topology.gatewayLinkRouterAddress(index) + "/30", "dev", device);
            ip("-n", router, "link", "set", device, "up");
            ip("-n", namespace, "addr", "add", Topology.gatewayLinkAddress(index) + "/30", "dev", link);
            ip("-n", namespace, "link", "set", link, "up");
            ip("-n", namespace, "route", "add", "default", "via", Topology.gatewayLinkRouterAddress(index), "dev", link);
            sysctl(namespace, "net.ipv4.ip_forward", "1");
            for (String scope : List.of("all", "default", link)) {
                sysctl(namespace, "net.ipv4.conf." + scope + ".rp_filter", "0");
            }
            ip("-n", router, "route", "replace", gateway.publicAddress() + "/32",
                    "via", Topology.gatewayLinkAddress(index), "dev", device);
        }
        setVipRoute(topology, indices);
    }

    /** Routes the VIP prefix to the gateways numbered {@code indices}, one nexthop each; without any, removes it. */
    private static void setVipRoute(Topology topology, Collection<Integer> indices) {
        String router = LabNames.routerNamespace(topology.name());
        if (indices.isEmpty()) {
            Shell.run("ip", "-n", router, "route", "del", topology.vips()); // absent already is fine
            return;
        }
        List<String> command = new ArrayList<>(List.of("-n", router, "route", "replace", topology.vips()));
        for (int index : new TreeSet<>(indices)) {
            command.addAll(List.of("nexthop", "via", Topology.gatewayLinkAddress(index), "dev", LabNames.routerGatewayDevice(index)));
        }
        ip(command.toArray(String[]::new));
    }

    /** The gateways the public router currently spreads the VIP prefix over, in topology order. */
    public static List<String> routedGateways(Topology topology) {
        Shell.Result route = Shell.run("ip", "-n", LabNames.routerNamespace(topology.name()), "route", "show", "to", "exact",
                topology.vips()).orThrow();
        Set<Integer> indices = new TreeSet<>();
        Matcher device = Pattern.compile("\\bdev g(\\d+)\\b").matcher(route.output());
        while (device.find()) {
            indices.add(Integer.parseInt(device.group(1)));
        }
        List<String> names = new ArrayList<>();
        for (int index : indices) {
            if (index >= 1 && index <= topology.gatewayList().size()) {
                names.add(topology.gatewayList().get(index - 1).name());
            }
        }
        return names;
    }

    /**
     * Takes gateway {@code gateway} out of the public router's ECMP route for the VIP prefix, as an
     * upstream router does when the gateway's BGP session drops; the other nexthops and the route to the
     * gateway's own public address stay.
     */
    public static void removeGatewayRoute(Topology topology, String gateway) {
        Set<Integer> indices = indicesOf(topology, routedGateways(topology));
        indices.remove(topology.gatewayIndex(gateway));
        setVipRoute(topology, indices);
    }

    /** Puts gateway {@code gateway} back into the public router's ECMP route for the VIP prefix. */
    public static void restoreGatewayRoute(Topology topology, String gateway) {
        Set<Integer> indices = indicesOf(topology, routedGateways(topology));
        indices.add(topology.gatewayIndex(gateway));
        setVipRoute(topology, indices);
    }

    private static Set<Integer> indicesOf(Topology topology, List<String> gateways) {
        Set<Integer> indices = new TreeSet<>();
        for (String gateway : gateways) {
            indices.add(topology.gatewayIndex(gateway));
        }
        return indices;
    }

    /** Sets a sysctl inside {@code namespace} (the net.* ones are per namespace). */
    private static void sysctl(String namespace, String key, String value) {
        Shell.run("ip", "netns", "exec", namespace, "sysctl", "-q", "-w", key + "=" + value).orThrow();
    }

    private static void attachToUnderlay(Topology topology, String namespace, String address, int index, LabState state) {
        String fabric = LabNames.fabricNamespace(topology.name());
        String mtu = Integer.toString(topology.mtu());
        String fabricPort = "u" + index;
        addNamespace(namespace, state);
        ip("-n", fabric, "link", "add", fabricPort, "mtu", mtu, "type", "veth",
                "peer", "name", LabNames.UNDERLAY_DEVICE, "netns", namespace, "mtu", mtu);
        ip("-n", fabric, "link", "set", fabricPort, "master", LabNames.BRIDGE, "up");
        ip("-n", namespace, "addr", "add", address + "/" + topology.underlayPrefixLength(), "dev", LabNames.UNDERLAY_DEVICE);
        ip("-n", namespace, "link", "set", LabNames.UNDERLAY_DEVICE, "up");
    }

    /** The API port of controller nodes (on their underlay address) in a lab with several. */
    static final int CLUSTER_API_PORT = 47880;
    static final int ETCD_CLIENT_PORT = 2379;
    /** The nodes of a lab's cluster peer by iBGP (full mesh) on the standard port. */
    static final int BGP_PORT = 179;
    static final int ETCD_PEER_PORT = 2380;

    /**
     * Starts controller node {@code node}: alone, a controller with its embedded store; one of several,
     * a cluster node on the lab's etcd member, with its API also on TCP so the others can forward to it.
     */
    private static Process startController(Topology topology, int node, Launcher launcher, LabState state) {
        String lab = topology.name();
        String address = topology.controllerAddress(node);
        List<String> arguments = new ArrayList<>(List.of("controller",
                "--listen", address + ":" + topology.controllerPort(),
                "--tls-dir", LabNames.pkiDir(lab).toString(),
                "--api-socket", LabNames.controllerSocket(lab, node).toString()));
        if (topology.controllerNodes() == 1) {
            arguments.addAll(List.of("--store", LabNames.controllerStore(lab).toString()));
        } else {
            arguments.addAll(List.of("--store", "etcd://" + topology.controllerAddress(0) + ":" + ETCD_CLIENT_PORT,
                    "--node-id", LabNames.controllerNodeId(node), "--api", address + ":" + CLUSTER_API_PORT,
                    "--bgp", address + ":" + BGP_PORT));
            for (int peer = 0; peer < topology.controllerNodes(); peer++) {
                if (peer != node) {
                    arguments.addAll(List.of("--bgp-peer", topology.controllerAddress(peer) + ":" + BGP_PORT));
                }
            }
        }
        return startInNamespace(LabNames.controllerNamespace(lab, node), launcher, arguments, LabNames.controllerLog(lab, node),
                controllerRole(node), state);
    }

    private static String controllerRole(int node) {
        return node == 0 ? CONTROLLER_ROLE : CONTROLLER_ROLE + (node + 1);
    }

    /** One etcd member in the first controller node's namespace: the store the lab's controller nodes share. */
    private static void startEtcd(Topology topology, LabState state) {
        String lab = topology.name();
        String address = topology.controllerAddress(0);
        String client = "http://" + address + ":" + ETCD_CLIENT_PORT;
        String peer = "http://" + address + ":" + ETCD_PEER_PORT;
        List<String> command = List.of("setsid", "nsenter", "--net=/run/netns/" + LabNames.controllerNamespace(lab, 0), "--",
                "etcd", "--name", "e1", "--data-dir", LabNames.etcdDir(lab).toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "e1=" + peer, "--initial-cluster-state", "new");
        try {
            Process etcd = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(LabNames.etcdLog(lab).toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            state.agent("etcd", etcd.pid());
        } catch (IOException e) {
            throw new LabException("cannot start etcd (apt-get install etcd-server): " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Shell.run("ip", "netns", "exec", LabNames.controllerNamespace(lab, 0), "etcdctl", "--endpoints", client,
                "endpoint", "health").ok()) {
            if (System.nanoTime() > deadline) {
                throw new LabException("etcd did not start; its log " + LabNames.etcdLog(lab) + " ends with:\n" + tail(LabNames.etcdLog(lab), 15));
            }
            sleep(100);
        }
    }

    /**
     * Starts the lab's controller again (after it died or was killed) over the same store, and waits until
     * its API answers. Agents keep forwarding meanwhile and reconnect by themselves.
     */
    public static void restartController(RunningLab lab, Launcher launcher) {
        restartController(lab, 0, launcher);
    }

    /** Starts controller node {@code node} (0-based) again and waits until its API answers. */
    public static void restartController(RunningLab lab, int node, Launcher launcher) {
        LabState state = LabState.load(lab.name()).orElseThrow(() -> new LabException("lab " + lab.name() + " has no journal"));
        Process controller = startController(lab.topology(), node, launcher, state);
        awaitController(lab.name(), node, controller).close();
    }

    /** The PID of the lab's controller process as journaled last, if it is alive. */
    public static Optional<ProcessHandle> controllerProcess(String lab) {
        return controllerProcess(lab, 0);
    }

    /** The PID of controller node {@code node} (0-based) as journaled last, if it is alive. */
    public static Optional<ProcessHandle> controllerProcess(String lab, int node) {
        return LabState.load(lab).flatMap(state -> state.agents().stream()
                        .filter(a -> a.host().equals(controllerRole(node))).reduce((first, second) -> second))
                .flatMap(a -> ProcessHandle.of(a.pid())).filter(ProcessHandle::isAlive);
    }

    private static ApiClient awaitController(String lab, Process controller) {
        return awaitController(lab, 0, controller);
    }

    /** Waits until controller node {@code node}'s API answers on its socket; returns a client of it. */
    private static ApiClient awaitController(String lab, int node, Process controller) {
        Path socket = LabNames.controllerSocket(lab, node);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && controller.isAlive()) {
            if (Files.exists(socket)) {
                ApiClient client = ApiClient.connect("unix:" + socket);
                try {
                    client.get("/v2.0/hosts");
                    return client;
                } catch (RuntimeException notYet) {
                    client.close();
                }
            }
            sleep(50);
        }
        throw new LabException("the controller did not start; its log " + LabNames.controllerLog(lab, node) + " ends with:\n"
                + tail(LabNames.controllerLog(lab, node), 15));
    }

    private static void addNamespace(String namespace, LabState state) {
        state.namespace(namespace);
        ip("netns", "add", namespace);
        ip("-n", namespace, "link", "set", "lo", "up");
    }

    private static Process startAgent(Topology topology, String host, Launcher launcher, LabState state) {
        String lab = topology.name();
        List<String> controllers = new ArrayList<>();
        for (int node = 0; node < topology.controllerNodes(); node++) {
            controllers.add(topology.controllerAddress(node) + ":" + topology.controllerPort());
        }
        List<String> arguments = List.of("agent",
                "--controller", String.join(",", controllers),
                "--routes-file", LabNames.routesFile(lab, host).toString(),
                "--tls-dir", LabNames.pkiDir(lab).toString(),
                "--host", host,
                "--vm-namespace-prefix", LabNames.vmNamespacePrefix(lab),
                "--counters", LabNames.countersFile(lab, host).toString(),
                "--vsock-policy-dir", LabNames.vsockPolicyDir(lab).toString(),
                "--vsock-status-file", LabNames.vsockStatusFile(lab, host).toString(),
                "--underlay-mtu", Integer.toString(topology.mtu()));
        return startInNamespace(LabNames.hostNamespace(lab, host), launcher, arguments, LabNames.agentLog(lab, host),
                host, state);
    }

    private static String gatewayRole(String gateway) {
        return "gateway-" + gateway;
    }

    private static Process startGateway(Topology topology, Topology.Gateway gateway, Launcher launcher, LabState state) {
        String lab = topology.name();
        try {
            Files.deleteIfExists(LabNames.gatewayStatusFile(lab, gateway.name())); // a stale one would pass the wait
        } catch (IOException e) {
            throw new LabException("cannot remove " + LabNames.gatewayStatusFile(lab, gateway.name()) + ": " + e.getMessage(), e);
        }
        List<String> arguments = List.of("gateway",
                "--name", gateway.name(),
                "--api", "unix:" + LabNames.controllerSocket(lab, 0),
                "--registry", topology.controllerAddress(0) + ":" + topology.controllerPort(),
                "--tls-dir", LabNames.pkiDir(lab).toString(),
                "--underlay", gateway.address(),
                "--port", Integer.toString(GATEWAY_PORT),
                "--public-address", gateway.publicAddress(),
                "--location", gateway.location(),
                "--underlay-mtu", Integer.toString(topology.mtu()),
                "--status-file", LabNames.gatewayStatusFile(lab, gateway.name()).toString());
        return startInNamespace(LabNames.gatewayNamespace(lab, gateway.name()), launcher, arguments,
                LabNames.gatewayLog(lab, gateway.name()), gatewayRole(gateway.name()), state);
    }

    /**
     * Waits until the gateway's status file says it is running. With the environment variable
     * {@value #SKIP_GATEWAY_WAIT} set to {@code true} (for trying the lab without a working
     * {@code vnet gateway}) it returns at once.
     */
    private static void awaitGateway(String lab, String gateway, Process process) {
        if ("true".equals(System.getenv(SKIP_GATEWAY_WAIT))) {
            return;
        }
        Path status = LabNames.gatewayStatusFile(lab, gateway);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (Files.exists(status) && RUNNING.matcher(Files.readString(status)).find()) {
                    return;
                }
            } catch (IOException notYetWritten) {
                // the gateway is replacing the file
            }
            if (!process.isAlive()) {
                break;
            }
            sleep(50);
        }
        throw new LabException("the gateway " + gateway + " did not start; its log " + LabNames.gatewayLog(lab, gateway)
                + " ends with:\n" + tail(LabNames.gatewayLog(lab, gateway), 15));
    }

    /** The UDP port gateways listen on for their hosts' tunnels. */
    static final int GATEWAY_PORT = 4790;
    /** Set to {@code true}, {@link #up} starts the gateways without waiting for them to report running. */
    public static final String SKIP_GATEWAY_WAIT = "VNET_LAB_SKIP_GATEWAY_WAIT";
    private static final Pattern RUNNING = Pattern.compile("\"state\"\\s*:\\s*\"running\"");

    /** Starts gateway {@code gateway} again (after {@link #stopGateway}) in its namespace and waits until it runs. */
    public static void startGateway(RunningLab lab, String gateway, Launcher launcher) {
        LabState state = LabState.load(lab.name()).orElseThrow(() -> new LabException("lab " + lab.name() + " has no journal"));
        Process process = startGateway(lab.topology(), lab.topology().gateway(gateway), launcher, state);
        awaitGateway(lab.name(), gateway, process);
    }

    /**
     * Stops gateway {@code gateway}'s process as a crash would look from outside (its namespace, links and
     * routes stay; the public router keeps routing to it until {@link #removeGatewayRoute}).
     *
     * @return whether a live process was stopped
     */
    public static boolean stopGateway(String lab, String gateway) {
        return gatewayProcess(lab, gateway).map(handle -> stopAgent(lab, handle.pid())).orElse(false);
    }

    /** {@link #stopGateway(String, String)} of a running lab. */
    public static boolean stopGateway(RunningLab lab, String gateway) {
        lab.topology().gateway(gateway); // an unknown name is an error, not "nothing to stop"
        return stopGateway(lab.name(), gateway);
    }

    /** The gateway's process as journaled last, if it is alive. */
    public static Optional<ProcessHandle> gatewayProcess(String lab, String gateway) {
        return LabState.load(lab).flatMap(state -> state.agents().stream()
                        .filter(a -> a.host().equals(gatewayRole(gateway))).reduce((first, second) -> second))
                .flatMap(a -> ProcessHandle.of(a.pid())).filter(ProcessHandle::isAlive);
    }

    private static Process startInNamespace(String namespace, Launcher launcher, List<String> arguments, Path log,
                                            String role, LabState state) {
        // nsenter enters only the network namespace: the agent creates VM namespaces (bind mounts under
        // /run/netns), which must be visible outside it, as they would not be from ip netns exec's own
        // mount namespace.
        List<String> command = new ArrayList<>(List.of("setsid", "nsenter", "--net=/run/netns/" + namespace, "--"));
        command.addAll(launcher.vnetCommand());
        command.addAll(arguments);
        try {
            // setsid and nsenter both exec, so the PID is the JVM's.
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            state.agent(role, process.pid());
            return process;
        } catch (IOException e) {
            throw new LabException("cannot start the " + role + " process: " + e.getMessage(), e);
        }
    }

    private static void awaitAgent(String lab, String host, Process process) {
        Path counters = LabNames.countersFile(lab, host);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(counters)) {
                try {
                    AgentState agentState = CountersReader.open(counters).state();
                    if (agentState == AgentState.RUNNING) {
                        return;
                    }
                    if (agentState == AgentState.FAILED) {
                        break;
                    }
                } catch (RuntimeException notYetWritten) {
                    // the agent is still creating the file
                }
            }
            if (!process.isAlive()) {
                break;
            }
            sleep(50);
        }
        throw new LabException("the agent of " + host + " did not start; its log " + LabNames.agentLog(lab, host)
                + " ends with:\n" + tail(LabNames.agentLog(lab, host), 15));
    }

    /**
     * Removes every process, namespace and device of the lab, and its state directory.
     *
     * @return what was removed, for the operator
     */
    public static List<String> down(String lab) {
        List<String> removed = new ArrayList<>();
        Optional<LabState> state = LabState.load(lab);
        for (LabState.Agent agent : state.map(LabState::agents).orElse(List.of())) {
            if (stopAgent(lab, agent.pid())) {
                removed.add("agent of " + agent.host() + " (pid " + agent.pid() + ")");
            }
        }
        Set<String> namespaces = new LinkedHashSet<>(state.map(LabState::namespaces).orElse(List.of()));
        namespaces.addAll(namespacesOf(lab));
        List<String> reversed = new ArrayList<>(namespaces);
        java.util.Collections.reverse(reversed);
        List<String> present = namespacesOf(lab);
        for (String namespace : reversed) {
            if (!present.contains(namespace)) {
                continue;
            }
            killProcessesIn(namespace);
            Shell.Result result = Shell.run("ip", "netns", "del", namespace);
            if (result.ok()) {
                removed.add("namespace " + namespace);
            } else {
                throw new LabException("cannot remove namespace " + namespace + ": " + result.output().strip());
            }
        }
        deleteRecursively(LabNames.labDir(lab));
        return removed;
    }

    /** Labs known from their journal or from namespaces that carry the vnet prefix. */
    public static List<String> labs() {
        Set<String> names = new LinkedHashSet<>(LabState.labs());
        for (String namespace : allNamespaces()) {
            if (namespace.startsWith("vn-")) {
                int end = namespace.indexOf('-', 3);
                if (end > 3) {
                    names.add(namespace.substring(3, end));
                }
            }
        }
        return List.copyOf(names);
    }

    private static boolean stopAgent(String lab, long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(h -> commandLineMentions(pid, LabNames.labDir(lab).toString()));
        if (handle.isEmpty()) {
            return false;
        }
        handle.get().destroy();
        try {
            handle.get().onExit().get(3, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            handle.get().destroyForcibly();
        }
        return true;
    }

    /**
     * Whether the process's full command line contains {@code text}: guards against a recycled PID.
     * Read from /proc directly because {@code ProcessHandle.Info} truncates long command lines (a JVM's
     * class path alone can exceed its limit).
     */
    private static boolean commandLineMentions(long pid, String text) {
        try {
            byte[] commandLine = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(commandLine, java.nio.charset.StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    static void killProcessesIn(String namespace) {
        Shell.Result pids = Shell.run("ip", "netns", "pids", namespace);
        if (!pids.ok()) {
            return;
        }
        pids.output().lines().map(String::strip).filter(s -> s.matches("\\d+"))
                .map(Long::parseLong)
                .flatMap(pid -> ProcessHandle.of(pid).stream())
                .forEach(ProcessHandle::destroyForcibly);
        for (int i = 0; i < 40 && !Shell.run("ip", "netns", "pids", namespace).output().isBlank(); i++) {
            sleep(50);
        }
    }

    public static List<String> namespacesOf(String lab) {
        return allNamespaces().stream().filter(n -> n.startsWith(LabNames.prefix(lab))).toList();
    }

    private static List<String> allNamespaces() {
        Shell.Result result = Shell.run("ip", "netns", "list");
        if (!result.ok()) {
            return List.of();
        }
        return result.output().lines().map(l -> l.split("\\s+")[0]).filter(s -> !s.isEmpty()).toList();
    }

    static void ip(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(List.of(arguments));
        Shell.run(command).orThrow();
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new LabException("cannot remove " + dir + ": " + e.getMessage(), e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted");
        }
    }
}
