package dev.vnet.lab;

import dev.vnet.dataplane.Placement;
import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.CountersReader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Builds and removes labs: hosts as network namespaces on a bridged veth underlay, a real agent process
 * per host, and VMs as namespaces whose only NIC is a TAP held by their host's agent.
 *
 * <pre>
 *   fabric ns:  br0 ── u1 ─┐          ┌─ u2 ── (br0)
 *                          │ veth     │ veth
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
    private static final Duration AGENT_START_TIMEOUT = Duration.ofSeconds(40);

    /** The command that starts an agent; the lab appends {@code --placement P --host H --counters C}. */
    public record AgentLauncher(List<String> command) {
    }

    private Lab() {
    }

    /** Creates the lab; on failure removes whatever it created and rethrows. */
    public static RunningLab up(Topology topology, AgentLauncher launcher) {
        preflight();
        String name = topology.name();
        if (LabState.load(name).isPresent() || !namespacesOf(name).isEmpty()) {
            throw new LabException("lab '" + name + "' is already up; remove it with: vnet lab down " + name);
        }
        LabState state = LabState.create(name);
        try {
            Placement placement = topology.toPlacement();
            createUnderlay(topology, state);
            for (Placement.Vm vm : placement.vms()) {
                createVmNamespace(vm.namespace(), state);
            }
            placement.write(LabNames.placementFile(name));
            List<Process> agents = new ArrayList<>();
            for (Placement.Host host : placement.hosts()) {
                agents.add(startAgent(name, host.name(), launcher, state));
            }
            for (int i = 0; i < agents.size(); i++) {
                awaitAgent(name, placement.hosts().get(i).name(), agents.get(i));
            }
            for (Placement.Vm vm : placement.vms()) {
                configureGuest(vm, topology.prefixLength(vm.network()));
            }
            state.phase("up");
            return new RunningLab(topology, placement);
        } catch (RuntimeException e) {
            try {
                down(name);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        } catch (IOException e) {
            down(name);
            throw new LabException("cannot write the lab's placement: " + e.getMessage(), e);
        }
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

    private static void createUnderlay(Topology topology, LabState state) {
        String lab = topology.name();
        String fabric = LabNames.fabricNamespace(lab);
        addNamespace(fabric, state);
        ip("-n", fabric, "link", "add", LabNames.BRIDGE, "type", "bridge");
        ip("-n", fabric, "link", "set", LabNames.BRIDGE, "up");
        String mtu = Integer.toString(topology.mtu());
        int index = 0;
        for (Topology.Host host : topology.hosts()) {
            String namespace = LabNames.hostNamespace(lab, host.name());
            String fabricPort = "u" + (++index);
            addNamespace(namespace, state);
            ip("-n", fabric, "link", "add", fabricPort, "mtu", mtu, "type", "veth",
                    "peer", "name", LabNames.UNDERLAY_DEVICE, "netns", namespace, "mtu", mtu);
            ip("-n", fabric, "link", "set", fabricPort, "master", LabNames.BRIDGE, "up");
            ip("-n", namespace, "addr", "add", host.address() + "/" + topology.underlayPrefixLength(),
                    "dev", LabNames.UNDERLAY_DEVICE);
            ip("-n", namespace, "link", "set", LabNames.UNDERLAY_DEVICE, "up");
        }
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

    private static Process startAgent(String lab, String host, AgentLauncher launcher, LabState state) {
        List<String> command = new ArrayList<>(List.of("setsid", "ip", "netns", "exec", LabNames.hostNamespace(lab, host)));
        command.addAll(launcher.command());
        command.addAll(List.of("--placement", LabNames.placementFile(lab).toString(), "--host", host,
                "--counters", LabNames.countersFile(lab, host).toString()));
        Path log = LabNames.agentLog(lab, host);
        try {
            // setsid and ip netns exec both exec, so the PID is the agent's JVM.
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            state.agent(host, process.pid());
            return process;
        } catch (IOException e) {
            throw new LabException("cannot start the agent of " + host + ": " + e.getMessage(), e);
        }
    }

    private static void awaitAgent(String lab, String host, Process process) {
        Path counters = LabNames.countersFile(lab, host);
        long deadline = System.nanoTime() + AGENT_START_TIMEOUT.toNanos();
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

    /** What the guest OS would do at boot: name its NIC, configure the static address, bring it up. */
    private static void configureGuest(Placement.Vm vm, int prefixLength) {
        ip("-n", vm.namespace(), "link", "set", "dev", vm.tap(), "name", LabNames.VM_NIC);
        ip("-n", vm.namespace(), "addr", "add", vm.ip() + "/" + prefixLength, "dev", LabNames.VM_NIC);
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
        Optional<ProcessHandle> handle = ProcessHandle.of(pid)
                .filter(h -> h.info().commandLine().map(c -> c.contains(LabNames.labDir(lab).toString())).orElse(false));
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

    private static void killProcessesIn(String namespace) {
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
