package dev.vnet.lab;

import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.CountersReader;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Builds and removes labs: hosts as network namespaces on a bridged veth underlay, a real agent process
 * per host, a registry process in its own namespace on the underlay, and VMs as namespaces whose only
 * NIC is a TAP held by their host's agent. The lab declares networks, hosts and VMs to the registry
 * (over its admin socket) and issues the certificates agents use to reach it.
 *
 * <pre>
 *   fabric ns:  br0 ── u1 ── registry ns 10.255.0.254 (vnet registry)
 *                │── u2 ─┐          ┌─ u3 ──│
 *                        │ veth     │ veth
 *   host1 ns:   underlay0 10.255.0.1  underlay0 10.255.0.2   :host2 ns
 *               agent (vnet agent)    agent (vnet agent)
 *                 │ TAP fd  │ TAP fd     │ TAP fd
 *   VM ns:      eth0      eth0         eth0
 * </pre>
 *
 * Every creation is journaled first ({@link LabState}); {@link #down} uses the journal and, as a
 * fallback, the {@code vn-<lab>-} name prefix, so it also cleans up after a crashed {@code lab up}.
 */
public final class Lab {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(40);

    /** The command that runs {@code vnet}; the lab appends {@code registry ...} or {@code agent ...}. */
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
            Process registry = startRegistry(topology, launcher, state);
            List<Vm> vms;
            try (RegistryClient admin = awaitRegistry(name, registry)) {
                vms = populateRegistry(topology, admin);
            }
            for (Vm vm : vms) {
                createVmNamespace(vm.namespace(), state);
            }
            List<Process> agents = new ArrayList<>();
            for (Topology.Host host : topology.hosts()) {
                writeAttachments(name, host.name(), vms);
                agents.add(startAgent(topology, host.name(), launcher, state));
            }
            for (int i = 0; i < agents.size(); i++) {
                String host = topology.hosts().get(i).name();
                awaitAgent(name, host, agents.get(i));
            }
            for (Vm vm : vms) {
                configureGuest(vm);
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

    /** A VM as the registry assigned it and the lab attached it. */
    public record Vm(String name, String network, String host, String address, int prefixLength, String mac, int port,
                     String namespace, String tap) {
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

    static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).findFirst()
                    .map(l -> l.split("\\s+")[2].equals("0")).orElse(false);
        } catch (IOException e) {
            return false;
        }
    }

    /** A small CA for the lab: the registry's server certificate and one client certificate per host. */
    private static void issueCertificates(Topology topology) {
        Path pki = LabNames.pkiDir(topology.name());
        try {
            CertificateAuthority ca = CertificateAuthority.create(pki, "vnet-lab-" + topology.name() + "-ca");
            ca.issue("registry", List.of(InetAddress.getByName(topology.registryAddress())), pki);
            for (Topology.Host host : topology.hosts()) {
                ca.issue(host.name(), List.of(), pki);
            }
        } catch (IOException e) {
            throw new LabException("cannot issue the lab's certificates in " + pki + ": " + e.getMessage(), e);
        }
    }

    private static void createUnderlay(Topology topology, LabState state) {
        String lab = topology.name();
        String fabric = LabNames.fabricNamespace(lab);
        addNamespace(fabric, state);
        ip("-n", fabric, "link", "add", LabNames.BRIDGE, "type", "bridge");
        ip("-n", fabric, "link", "set", LabNames.BRIDGE, "up");
        int index = 0;
        attachToUnderlay(topology, LabNames.registryNamespace(lab), topology.registryAddress(), ++index, state);
        for (Topology.Host host : topology.hosts()) {
            attachToUnderlay(topology, LabNames.hostNamespace(lab, host.name()), host.address(), ++index, state);
        }
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

    private static Process startRegistry(Topology topology, Launcher launcher, LabState state) {
        String lab = topology.name();
        List<String> arguments = List.of("registry",
                "--listen", topology.registryAddress() + ":" + topology.registryPort(),
                "--tls-dir", LabNames.pkiDir(lab).toString(),
                "--admin-socket", LabNames.registrySocket(lab).toString(),
                "--store", LabNames.registryStore(lab).toString());
        return startInNamespace(LabNames.registryNamespace(lab), launcher, arguments, LabNames.registryLog(lab),
                "registry", state);
    }

    /**
     * Starts the lab's registry again (after it died or was killed) over the same store, and waits until
     * it answers. Agents keep running; their token requests succeed again once it is back.
     */
    public static void restartRegistry(RunningLab lab, Launcher launcher) {
        LabState state = LabState.load(lab.name()).orElseThrow(() -> new LabException("lab " + lab.name() + " has no journal"));
        Process registry = startRegistry(lab.topology(), launcher, state);
        awaitRegistry(lab.name(), registry).close();
    }

    /** The PID of the lab's registry process as journaled last, if it is alive. */
    public static Optional<ProcessHandle> registryProcess(String lab) {
        return LabState.load(lab).flatMap(state -> state.agents().stream()
                        .filter(a -> a.host().equals("registry")).reduce((first, second) -> second))
                .flatMap(a -> ProcessHandle.of(a.pid())).filter(ProcessHandle::isAlive);
    }

    /** Waits until the registry answers on its admin socket; returns an admin client. */
    private static RegistryClient awaitRegistry(String lab, Process registry) {
        Path socket = LabNames.registrySocket(lab);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && registry.isAlive()) {
            if (Files.exists(socket)) {
                RegistryClient client = RegistryClient.connectUnixSocket(socket).withDeadline(Duration.ofSeconds(5));
                try {
                    client.listNetworks();
                    return client;
                } catch (RuntimeException notYet) {
                    client.close();
                }
            }
            sleep(50);
        }
        throw new LabException("the registry did not start; its log " + LabNames.registryLog(lab) + " ends with:\n"
                + tail(LabNames.registryLog(lab), 15));
    }

    /** Declares the topology to the registry, which assigns addresses, MACs, ports and keys. */
    private static List<Vm> populateRegistry(Topology topology, RegistryClient admin) {
        Map<String, Integer> prefixes = new HashMap<>();
        for (Topology.Network network : topology.networks()) {
            var created = admin.createNetwork(network.name(), network.id(), network.subnet());
            prefixes.put(network.name(), created.subnet().prefixLength());
        }
        for (Topology.Host host : topology.hosts()) {
            admin.registerHost(host.name(), host.address());
        }
        List<Vm> vms = new ArrayList<>();
        Map<String, Integer> tapsPerHost = new HashMap<>();
        for (Topology.Vm vm : topology.vms()) {
            var assigned = admin.createVm(vm.name(), vm.network(), vm.host(), vm.ip());
            int tap = tapsPerHost.merge(vm.host(), 1, Integer::sum);
            vms.add(new Vm(vm.name(), vm.network(), vm.host(), Ipv4Address.toString(assigned.address()),
                    prefixes.get(vm.network()), MacAddress.toString(assigned.mac()), assigned.port(),
                    LabNames.vmNamespace(topology.name(), vm.name()), "vtap" + tap));
        }
        return vms;
    }

    private static void createVmNamespace(String namespace, LabState state) {
        addNamespace(namespace, state);
        // IPv6 is not carried yet; without this the guest would keep sending router solicitations.
        Shell.run("ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1").orThrow();
    }

    private static void addNamespace(String namespace, LabState state) {
        state.namespace(namespace);
        ip("netns", "add", namespace);
        ip("-n", namespace, "link", "set", "lo", "up");
    }

    private static void writeAttachments(String lab, String host, List<Vm> vms) {
        List<Attachment> mine = vms.stream().filter(v -> v.host().equals(host))
                .map(v -> new Attachment(v.name(), v.namespace(), v.tap())).toList();
        try {
            Attachment.write(LabNames.attachmentsFile(lab, host), mine);
        } catch (IOException e) {
            throw new LabException("cannot write the attachments of " + host + ": " + e.getMessage(), e);
        }
    }

    private static Process startAgent(Topology topology, String host, Launcher launcher, LabState state) {
        String lab = topology.name();
        List<String> arguments = List.of("agent",
                "--registry", topology.registryAddress() + ":" + topology.registryPort(),
                "--tls-dir", LabNames.pkiDir(lab).toString(),
                "--host", host,
                "--attachments", LabNames.attachmentsFile(lab, host).toString(),
                "--counters", LabNames.countersFile(lab, host).toString(),
                "--underlay-mtu", Integer.toString(topology.mtu()));
        return startInNamespace(LabNames.hostNamespace(lab, host), launcher, arguments, LabNames.agentLog(lab, host),
                host, state);
    }

    private static Process startInNamespace(String namespace, Launcher launcher, List<String> arguments, Path log,
                                            String role, LabState state) {
        List<String> command = new ArrayList<>(List.of("setsid", "ip", "netns", "exec", namespace));
        command.addAll(launcher.vnetCommand());
        command.addAll(arguments);
        try {
            // setsid and ip netns exec both exec, so the PID is the JVM's.
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

    /** What the guest OS would do at boot: name its NIC, configure the assigned address, bring it up. */
    private static void configureGuest(Vm vm) {
        ip("-n", vm.namespace(), "link", "set", "dev", vm.tap(), "name", LabNames.VM_NIC);
        ip("-n", vm.namespace(), "addr", "add", vm.address() + "/" + vm.prefixLength(), "dev", LabNames.VM_NIC);
        ip("-n", vm.namespace(), "link", "set", LabNames.VM_NIC, "up");
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
