package dev.vnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vnet.dataplane.AgentProcess;
import dev.vnet.dataplane.counters.CountersReader;
import dev.vnet.lab.Attachment;
import dev.vnet.lab.LabNames;
import dev.vnet.registry.client.RegistryClient;
import dev.vnet.registry.pki.TlsFiles;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Runs a host's agent (the lab starts one per host); 'agent stats' reads one.",
                "The agent asks the registry which VMs run on its host, creates their TAPs, moves each",
                "into its VM's namespace, and forwards with virtual network pairs: tokens from the",
                "registry, UDP between the VMs' reserved ports. Its counters live in a memory-mapped file."},
        subcommands = AgentCommand.Stats.class)
final class AgentCommand implements Callable<Integer> {
    /** How long a token request may take before the pair counts the registry as unavailable. */
    private static final Duration TOKEN_DEADLINE = Duration.ofSeconds(2);

    @Option(names = "--registry", description = "Registry address HOST:PORT (mutual TLS).")
    String registry;

    @Option(names = "--tls-dir", description = "Directory with ca.crt and this host's HOST.crt and HOST.key.")
    Path tlsDirectory;

    @Option(names = "--host", description = "This host's name (the CN of its certificate).")
    String host;

    @Option(names = "--attachments", description = "JSON list of {vm, namespace, tap} for this host's VMs.")
    Path attachments;

    @Option(names = "--counters", description = "Counters file to create.")
    Path counters;

    @Option(names = "--underlay-mtu", defaultValue = "1500", description = "The underlay's IP MTU (default ${DEFAULT-VALUE}).")
    int underlayMtu;

    @Option(names = "--offloads", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "TAP offloads (TSO, checksum) and UDP GSO/GRO (default on; --no-offloads: one frame per syscall).")
    boolean offloads;

    @Option(names = "--busy-poll", paramLabel = "MICROS", defaultValue = "${env:VNET_BUSY_POLL_US:-0}",
            description = "How long a forwarding thread keeps polling after its last packet before it sleeps: "
                    + "lower latency for more CPU (default ${DEFAULT-VALUE}; env VNET_BUSY_POLL_US).")
    long busyPollMicros;

    @Override
    public Integer call() throws Exception {
        if (registry == null || tlsDirectory == null || host == null || attachments == null || counters == null) {
            throw new IllegalArgumentException("vnet agent needs --registry, --tls-dir, --host, --attachments and "
                    + "--counters (the lab passes them); to read a running agent's counters use: vnet agent stats");
        }
        TlsFiles tls = new TlsFiles(tlsDirectory.resolve("ca.crt"), tlsDirectory.resolve(host + ".crt"),
                tlsDirectory.resolve(host + ".key"));
        RegistryClient client = RegistryClient.connect(registry, tls);
        RegistryClient tokens = client.withDeadline(TOKEN_DEADLINE);
        var local = Attachment.read(attachments);
        AgentProcess.run(() -> AgentAssembly.config(client.getHostAssignments(), local, underlayMtu, offloads, busyPollMicros),
                new RegistryTokenSource(tokens), counters, client);
        return 0;
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Prints a running agent's counters: packets and bytes per port, underlay traffic, "
                    + "tokens, and drops by reason.")
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
                        String agentHost = file.getFileName().toString().replace(".counters", "");
                        if (source.labHost.host == null || source.labHost.host.equals(agentHost)) {
                            byAgent.put(agentHost, CountersReader.open(file).snapshot());
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
