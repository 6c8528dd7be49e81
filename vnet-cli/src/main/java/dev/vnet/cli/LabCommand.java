package dev.vnet.cli;

import dev.vnet.dataplane.counters.CountersReader;
import dev.vnet.lab.Lab;
import dev.vnet.lab.LabNames;
import dev.vnet.lab.LabState;
import dev.vnet.lab.RunningLab;
import dev.vnet.lab.Topology;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "lab", mixinStandardHelpOptions = true,
        description = {"Creates, removes and shows labs of namespace hosts and VMs.",
                "Hosts are network namespaces on a veth underlay, each running a real agent;",
                "VMs are namespaces whose only NIC is a TAP held by their host's agent.",
                "Needs root."},
        subcommands = {LabCommand.Up.class, LabCommand.Down.class, LabCommand.Status.class})
final class LabCommand {

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Creates the lab described by a topology file (see examples/two-hosts.yaml).")
    static final class Up implements Callable<Integer> {
        @Parameters(paramLabel = "TOPOLOGY.yaml", description = "The topology file.")
        Path topology;

        @Option(names = "--name", description = "Lab name (default: the file's 'name').")
        String name;

        @Override
        public Integer call() {
            Topology parsed = Topology.read(topology);
            if (name != null) {
                parsed = parsed.withName(name);
            }
            RunningLab lab = Lab.up(parsed, Launchers.sameJvm());
            System.out.println("lab '" + lab.name() + "' is up:");
            for (var vm : lab.vms()) {
                System.out.printf("  %-10s %-8s %-6s %-15s %s port %d   ip netns exec %s ...%n", vm.name(), vm.network(),
                        vm.host(), vm.address(), vm.mac(), vm.port(), vm.namespace());
            }
            System.out.println("remove it with: vnet lab down " + lab.name());
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Removes every namespace, device and process of the named labs (default: all labs), "
                    + "also after a crash of 'lab up'.")
    static final class Down implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..*", description = "Labs to remove.")
        List<String> names;

        @Override
        public Integer call() {
            List<String> labs = names == null || names.isEmpty() ? Lab.labs() : names;
            if (labs.isEmpty()) {
                System.out.println("no lab is up");
            }
            for (String lab : labs) {
                List<String> removed = Lab.down(lab);
                System.out.println("lab '" + lab + "': removed " + removed.size() + " items");
                removed.forEach(item -> System.out.println("  " + item));
            }
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Shows the labs, their agents and namespaces.")
    static final class Status implements Callable<Integer> {
        @Override
        public Integer call() {
            List<String> labs = Lab.labs();
            if (labs.isEmpty()) {
                System.out.println("no lab is up");
                return 0;
            }
            for (String lab : labs) {
                var state = LabState.load(lab);
                System.out.println("lab '" + lab + "': " + state.map(LabState::phase).orElse("no journal (run: vnet lab down " + lab + ")")
                        + ", " + Lab.namespacesOf(lab).size() + " namespaces");
                for (LabState.Agent agent : state.map(LabState::agents).orElse(List.of())) {
                    Path counters = LabNames.countersFile(lab, agent.host());
                    String agentState = Files.exists(counters) ? CountersReader.open(counters).state().name() : "";
                    boolean alive = ProcessHandle.of(agent.pid()).map(ProcessHandle::isAlive).orElse(false);
                    System.out.printf("  %-8s pid %-8d %-8s %s%n", agent.host(), agent.pid(),
                            alive ? "alive" : "dead", agentState);
                }
            }
            return 0;
        }
    }
}
