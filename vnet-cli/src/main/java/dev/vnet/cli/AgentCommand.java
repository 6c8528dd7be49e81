package dev.vnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vnet.dataplane.AgentProcess;
import dev.vnet.dataplane.counters.CountersReader;
import dev.vnet.lab.LabNames;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Runs a host's agent (the lab starts one per host); 'agent stats' reads one.",
                "The agent creates the TAPs of the host's VMs, moves each into its VM's",
                "namespace, and forwards frames TAP to TAP on this host and in UDP datagrams",
                "to other hosts' agents. Its counters live in a memory-mapped file."},
        subcommands = AgentCommand.Stats.class)
final class AgentCommand implements Callable<Integer> {
    @Option(names = "--placement", description = "Placement file (JSON) that the lab writes. Required to run.")
    Path placement;

    @Option(names = "--host", description = "This host's name in the placement.")
    String host;

    @Option(names = "--counters", description = "Counters file to create.")
    Path counters;

    @Override
    public Integer call() throws Exception {
        if (placement == null || host == null || counters == null) {
            throw new IllegalArgumentException("vnet agent needs --placement, --host and --counters "
                    + "(the lab passes them); to read a running agent's counters use: vnet agent stats");
        }
        AgentProcess.run(placement, host, counters);
        return 0;
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Prints a running agent's counters: packets and bytes per port, underlay traffic, "
                    + "and drops by reason.")
    static final class Stats implements Callable<Integer> {
        static final class Source {
            @Option(names = "--counters", description = "The agent's counters file.")
            Path file;

            @ArgGroup(exclusive = false)
            LabHost labHost;
        }

        static final class LabHost {
            @Option(names = "--lab", required = true, description = "Lab name.")
            String lab;

            @Option(names = "--host", description = "Host name (default: every host of the lab).")
            String host;
        }

        @ArgGroup(multiplicity = "1")
        Source source;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Option(names = "--all", description = "Also print counters that are zero.")
        boolean all;

        @Override
        public Integer call() throws Exception {
            Map<String, Map<String, Long>> byAgent = new LinkedHashMap<>();
            if (source.file != null) {
                byAgent.put(source.file.toString(), CountersReader.open(source.file).snapshot());
            } else {
                Path dir = LabNames.labDir(source.labHost.lab);
                if (!Files.isDirectory(dir)) {
                    throw new IllegalArgumentException("no lab named '" + source.labHost.lab + "' (" + dir + ")");
                }
                try (var files = Files.list(dir)) {
                    for (Path file : files.filter(f -> f.toString().endsWith(".counters")).sorted().toList()) {
                        String host = file.getFileName().toString().replace(".counters", "");
                        if (source.labHost.host == null || source.labHost.host.equals(host)) {
                            byAgent.put(host, CountersReader.open(file).snapshot());
                        }
                    }
                }
                if (byAgent.isEmpty()) {
                    throw new IllegalArgumentException("no agent counters for that lab/host");
                }
            }
            if (!all) {
                byAgent.values().forEach(m -> m.values().removeIf(v -> v == 0));
            }
            if (json) {
                System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(byAgent));
            } else {
                byAgent.forEach((agent, values) -> {
                    System.out.println(agent + ":");
                    if (values.isEmpty()) {
                        System.out.println("  (every counter is zero; --all lists them)");
                    }
                    values.forEach((label, value) -> System.out.printf("  %-40s %,d%n", label, value));
                });
            }
            return 0;
        }
    }
}
