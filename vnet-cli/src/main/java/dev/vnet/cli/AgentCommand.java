package dev.vnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vnet.dataplane.AgentProcess;
import dev.vnet.dataplane.counters.CountersReader;
import dev.vnet.controller.channel.client.AgentChannelClient;
import dev.vnet.dataplane.TokenSource;
import dev.vnet.lab.GuestNamespaces;
import dev.vnet.registry.HostAssignments;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.vnet.lab.LabNames;
import dev.vnet.registry.client.RegistryClient;
import dev.vnet.registry.pki.TlsFiles;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import dev.vnet.vsock.host.SocketDevices;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Runs a host's agent (the lab starts one per host); 'agent stats' reads one.",
                "The agent connects to the controller (mutual TLS), which tells it which VMs run on this",
                "host and keeps telling it as they change: for each it creates the VM's namespace, a TAP",
                "moved into it and the VM's UDP port, and forwards with virtual network pairs (tokens",
                "from the controller's registry). Without the controller it keeps forwarding with what it",
                "has. Its counters live in a memory-mapped file."},
        subcommands = AgentCommand.Stats.class)
final class AgentCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(AgentCommand.class);
    /** How long a token request may take before the pair counts the registry as unavailable. */
    private static final Duration TOKEN_DEADLINE = Duration.ofSeconds(2);
    private static final Duration START_RETRY = Duration.ofMillis(200);

    @Option(names = "--controller", split = ",", description = "The controller's agent address HOST:PORT (mutual TLS); "
            + "for a cluster, several, comma-separated: the agent goes to whichever node owns its host.")
    List<String> controller;

    @Option(names = "--tls-dir", description = "Directory with ca.crt and this host's HOST.crt and HOST.key.")
    Path tlsDirectory;

    @Option(names = "--host", description = "This host's name (the CN of its certificate).")
    String host;

    @Option(names = "--vm-namespace-prefix", defaultValue = "vn-vm-",
            description = "Each VM's namespace is this prefix and the VM's name (default ${DEFAULT-VALUE}).")
    String vmNamespacePrefix;

    @Option(names = "--routes-file", description = "Write the routes this agent holds here (JSON) after every change it applies.")
    Path routesFile;

    @Option(names = "--counters", description = "Counters file to create.")
    Path counters;

    @Option(names = "--vsock-policy-dir", description = "Give every VM a virtual socket device (socket offload, docs/vsock.md) "
            + "with the policies in this directory (VM.json, reread every second); no devices without it.")
    java.nio.file.Path vsockPolicyDirectory;

    @Option(names = "--vsock-status-file", description = "Where the socket devices' counters go every second.")
    java.nio.file.Path vsockStatusFile;

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
        if (controller == null || tlsDirectory == null || host == null || counters == null) {
            throw new IllegalArgumentException("vnet agent needs --controller, --tls-dir, --host and --counters "
                    + "(the lab passes them); to read a running agent's counters use: vnet agent stats");
        }
        TlsFiles tls = new TlsFiles(tlsDirectory.resolve("ca.crt"), tlsDirectory.resolve(host + ".crt"),
                tlsDirectory.resolve(host + ".key"));
        List<RegistryClient> clients = new java.util.ArrayList<>();
        for (String node : controller) {
            clients.add(RegistryClient.connect(node, tls));
        }
        HostAssignments assignments = hostAssignments(clients);
        Map<String, String> idByLocalName = new java.util.concurrent.ConcurrentHashMap<>();
        TokenSource tokens = AttachmentApplier.translating(new FailoverTokenSource(clients.stream()
                .<TokenSource>map(client -> new RegistryTokenSource(client.withDeadline(TOKEN_DEADLINE))).toList()), idByLocalName);
        AgentProcess.run(() -> AgentAssembly.config(assignments, underlayMtu, offloads, busyPollMicros), tokens, counters, agent -> {
            try {
                SocketDevices devices = vsockPolicyDirectory == null ? null : SocketDevices.start(vsockPolicyDirectory, vsockStatusFile);
                AttachmentApplier applier = new AttachmentApplier(agent, new GuestNamespaces(vmNamespacePrefix), idByLocalName,
                        routesFile, devices);
                AgentChannelClient channel = AgentChannelClient.connect(controller, tls, host, applier,
                        AgentChannelClient.Options.defaults());
                return () -> {
                    channel.close();
                    if (devices != null) {
                        devices.close();
                    }
                    clients.forEach(RegistryClient::close);
                };
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return 0;
    }

    /** The host's underlay address and token rules; waits for the controller, which may start after the agent. */
    private HostAssignments hostAssignments(List<RegistryClient> clients) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return clients.get(attempt % clients.size()).withDeadline(Duration.ofSeconds(5)).getHostAssignments();
            } catch (RuntimeException e) {
                if (attempt == 1 || attempt % 25 == 0) {
                    LOG.warn("the controller at {} does not answer yet ({}); retrying", controller, e.getMessage());
                }
                Thread.sleep(START_RETRY.toMillis());
            }
        }
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
