package dev.vnet.bench;

import dev.vnet.controller.channel.AgentChannelService;
import dev.vnet.controller.channel.HostStatePublisher;
import dev.vnet.controller.channel.InMemoryDesiredState;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.channel.VmAttachment;
import dev.vnet.controller.channel.client.AgentChannelClient;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.registry.server.RegistryServer;
import dev.vnet.store.InMemoryConfigStore;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Time from an API call to "all agents applied" over the real agent channel, and the controller's
 * memory per connected agent.
 *
 * <p>Starts the controller's channel ({@link AgentChannelService} on {@link RegistryServer}'s mutual-TLS
 * listener on loopback) over an {@link InMemoryDesiredState} of {@code --agents} hosts with
 * {@code --vms} VMs each, either in networks of {@code --hosts-per-network} hosts (default: 100
 * networks of 10 hosts, 100 routes per host) or, with {@code --one-network}, in one network spanning
 * every host (10,000 routes per host). Connects one {@link AgentChannelClient} per host, each with its
 * own certificate and TCP connection, in this JVM or, with {@code --agents-jvm separate}, all in one
 * child JVM (then the controller's memory is measured alone). Waits until every agent has applied the
 * initial state, then makes {@code --changes} changes one after another, alternately adding a VM on a
 * random host and deleting it, each timed from the change to {@code awaitApplied} reporting every
 * affected host done (the VM's host and every host of its network).
 *
 * <p>Memory: used heap after full GCs, before the agents connect and after they have all applied
 * their state, divided by the number of agents; likewise the process's resident set and its direct
 * buffers. With agents in this JVM that counts both ends of every connection; {@code --agents-jvm
 * separate} measures the controller alone.
 *
 * <p>Every run is bounded by {@code --max-seconds}: past it the process prints why and exits.
 */
public final class AgentChannelBenchmark {
    private static final int FIRST_PORT = 47901;
    private static final Duration AWAIT = Duration.ofSeconds(30);

    private record Options(int agents, int vmsPerAgent, int hostsPerNetwork, boolean oneNetwork, int changes, int warmup,
                           boolean separateAgentJvm, String childHeap, long maxSeconds, long seed) {
        static Options parse(String[] args) {
            Map<String, String> values = new HashMap<>();
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (name.equals("--one-network")) {
                    values.put(name, "true");
                } else if (name.startsWith("--") && i + 1 < args.length) {
                    values.put(name, args[++i]);
                } else {
                    throw new IllegalArgumentException("unknown argument " + name + " (see the class comment)");
                }
            }
            Options options = new Options(
                    Integer.parseInt(values.getOrDefault("--agents", "1000")),
                    Integer.parseInt(values.getOrDefault("--vms", "10")),
                    Integer.parseInt(values.getOrDefault("--hosts-per-network", "10")),
                    values.containsKey("--one-network"),
                    Integer.parseInt(values.getOrDefault("--changes", "200")),
                    Integer.parseInt(values.getOrDefault("--warmup", "20")),
                    switch (values.getOrDefault("--agents-jvm", "same")) {
                        case "same" -> false;
                        case "separate" -> true;
                        default -> throw new IllegalArgumentException("--agents-jvm is same or separate");
                    },
                    values.getOrDefault("--child-heap", "4g"),
                    Long.parseLong(values.getOrDefault("--max-seconds", "900")),
                    Long.parseLong(values.getOrDefault("--seed", "1")));
            if (options.agents < 1 || options.vmsPerAgent < 1 || options.hostsPerNetwork < 1 || options.changes < 0 || options.warmup < 0) {
                throw new IllegalArgumentException("counts must be positive: " + options);
            }
            return options;
        }

        int networks() {
            return oneNetwork ? 1 : (agents + hostsPerNetwork - 1) / hostsPerNetwork;
        }

        long networkOf(int host) {
            return oneNetwork ? 1 : 1 + host / hostsPerNetwork;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--agents-of")) {
            AgentsProcess.run(args);
            return;
        }
        Options options = Options.parse(args);
        exitAfter(options.maxSeconds);
        new AgentChannelBenchmark(options).run();
        System.exit(0);
    }

    /** Past the time bound the run is over, whatever it is doing. */
    private static void exitAfter(long seconds) {
        Thread.ofPlatform().daemon().name("time-bound").start(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("agent-channel benchmark: still running after " + seconds + " s (--max-seconds); giving up");
            System.err.flush();
            Runtime.getRuntime().halt(3);
        });
    }

    private final Options options;
    private final InMemoryDesiredState source = new InMemoryDesiredState();
    private final Map<String, Integer> vmsAdded = new HashMap<>();
    private final List<String> hosts = new ArrayList<>();

    private AgentChannelBenchmark(Options options) {
        this.options = options;
    }

    static String hostName(int index) {
        return String.format("host-%05d", index);
    }

    /** VM {@code index} of a network: 10.n.x.y/16 (networks may reuse addresses, as tenants do). */
    private static int vmAddress(long network, int index) {
        return (10 << 24) | (int) ((network & 0xFF) << 16) | (index + 2);
    }

    private static VmAttachment vm(String id, long network, int address, int port) {
        byte[] key = new byte[VmAttachment.KEY_LENGTH];
        Arrays.fill(key, (byte) id.hashCode());
        return new VmAttachment(id, id, "bench", network, address, 16, 0x02564E000000L | (address & 0xFFFFFFL), port, key);
    }

    private void run() throws Exception {
        Path directory = Files.createTempDirectory("vnet-agent-channel-bench");
        Process child = null;
        List<AgentChannelClient> clients = new ArrayList<>();
        try {
            long started = System.nanoTime();
            CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-bench-ca");
            TlsFiles serverTls = ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1")), directory.resolve("certs"));
            for (int i = 0; i < options.agents; i++) {
                hosts.add(hostName(i));
                ca.issue(hostName(i), List.of(), directory.resolve("certs"));
            }
            log("issued %d agent certificates in %.1f s", options.agents, seconds(started));

            int[] vmsInNetwork = new int[options.networks() + 1];
            for (int i = 0; i < options.agents; i++) {
                source.putHost(hostName(i), (10 << 24) | (255 << 16) | i + 1);
                long network = options.networkOf(i);
                for (int v = 0; v < options.vmsPerAgent; v++) {
                    String id = "vm-" + i + "-" + v;
                    source.putVm(hostName(i), vm(id, network, vmAddress(network, vmsInNetwork[(int) network]++), FIRST_PORT + v));
                }
            }
            int routesPerHost = source.desired(hostName(0)).routes().size();
            long version = 1;
            HostStatePublisher publisher = new HostStatePublisher(source, version);
            InMemoryConfigStore store = new InMemoryConfigStore();
            RegistryService registry = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
            RegistryServer server = RegistryServer.start(registry, new InetSocketAddress("127.0.0.1", 0), serverTls, null,
                    List.of(new AgentChannelService(publisher)));
            String target = "127.0.0.1:" + server.tcpAddress().orElseThrow().getPort();
            log("%d hosts, %d VMs each, %d network(s), %d routes per host; controller on %s; agents in %s JVM",
                    options.agents, options.vmsPerAgent, options.networks(), routesPerHost, target, options.separateAgentJvm ? "a separate" : "this");

            Memory before = Memory.measure();
            long connecting = System.nanoTime();
            if (options.separateAgentJvm) {
                child = AgentsProcess.start(options, target, directory.resolve("certs"));
            } else {
                for (int i = 0; i < options.agents; i++) {
                    clients.add(AgentsProcess.connect(target, directory.resolve("certs"), hostName(i)));
                }
            }
            SyncStatus initial = publisher.awaitApplied(version, Set.copyOf(hosts), Duration.ofSeconds(options.maxSeconds));
            if (!initial.complete()) {
                throw new IllegalStateException(initial.pendingHosts().size() + " agents never applied the initial state, e.g. "
                        + initial.pendingHosts().subList(0, Math.min(5, initial.pendingHosts().size())));
            }
            double syncSeconds = seconds(connecting);
            log("all %d agents connected and applied the initial state in %.1f s", options.agents, syncSeconds);
            Memory connected = Memory.measure();

            // ---------------------------------------------------------------- changes
            Random random = new Random(options.seed);
            long[] total = new long[options.changes];
            long[] publishing = new long[options.changes];
            int[] affectedCounts = new int[options.changes];
            int incomplete = 0;
            String added = null;
            for (int c = -options.warmup; c < options.changes; c++) {
                long start = System.nanoTime();
                Set<String> affected;
                if (added == null) {
                    int host = random.nextInt(options.agents);
                    long network = options.networkOf(host);
                    int index = vmsAdded.merge(hostName(host), 1, Integer::sum);
                    added = "added-" + host + "-" + index;
                    // Addresses above the initial ones: 10.n.255.x is never handed out at start.
                    VmAttachment vm = vm(added, network, vmAddress(network, 0xFF00 + index % 250), FIRST_PORT + options.vmsPerAgent);
                    affected = source.putVm(hostName(host), vm);
                } else {
                    affected = source.removeVm(added);
                    added = null;
                }
                version++;
                publisher.publish(version, affected);
                long published = System.nanoTime();
                SyncStatus status = publisher.awaitApplied(version, affected, AWAIT);
                long done = System.nanoTime();
                if (c >= 0) {
                    total[c] = done - start;
                    publishing[c] = published - start;
                    affectedCounts[c] = affected.size();
                    if (!status.complete()) {
                        incomplete++;
                        log("change %d: %d hosts had not applied after %d s: %s", c, status.pendingHosts().size(), AWAIT.toSeconds(),
                                status.pendingHosts().subList(0, Math.min(5, status.pendingHosts().size())));
                    }
                }
            }

            print(routesPerHost, syncSeconds, total, publishing, affectedCounts, incomplete, before, connected);
            publisher.close();
            server.close();
            store.close();
        } finally {
            clients.forEach(AgentChannelClient::close);
            if (child != null) {
                child.destroy();
                if (!child.waitFor(10, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                }
            }
            deleteRecursively(directory);
        }
    }

    private void print(int routesPerHost, double syncSeconds, long[] total, long[] publishing, int[] affectedCounts, int incomplete,
                       Memory before, Memory connected) {
        long[] sortedTotal = total.clone();
        Arrays.sort(sortedTotal);
        long[] sortedPublishing = publishing.clone();
        Arrays.sort(sortedPublishing);
        double meanAffected = Arrays.stream(affectedCounts).average().orElse(0);
        int agents = options.agents;
        System.out.println();
        System.out.printf("Agent channel: %d agents (%s JVM) x %d VMs, %s, %d routes per host, %d changes after %d warm-up, mutual TLS on loopback%n",
                agents, options.separateAgentJvm ? "separate" : "same", options.vmsPerAgent,
                options.oneNetwork ? "one network spanning every host" : options.networks() + " networks of " + options.hostsPerNetwork + " hosts",
                routesPerHost, total.length, options.warmup);
        System.out.printf("| measure | p50 | p99 | max |%n|---|---|---|---|%n");
        System.out.printf("| change -> all %.0f affected agents applied (ms) | %.2f | %.2f | %.2f |%n", meanAffected,
                millis(percentile(sortedTotal, 50)), millis(percentile(sortedTotal, 99)), millis(max(sortedTotal)));
        System.out.printf("| of which the publish call (ms) | %.2f | %.2f | %.2f |%n",
                millis(percentile(sortedPublishing, 50)), millis(percentile(sortedPublishing, 99)), millis(max(sortedPublishing)));
        if (incomplete > 0) {
            System.out.printf("%d changes were not applied everywhere within %d s (counted at that time)%n", incomplete, AWAIT.toSeconds());
        }
        System.out.printf("Initial connect + full sync of all agents: %.1f s%n", syncSeconds);
        String what = options.separateAgentJvm ? "controller alone" : "controller + agents in one JVM";
        System.out.printf("Per connected agent (%s): heap %.1f KiB, RSS %.1f KiB, direct buffers %.1f KiB%n", what,
                kib(connected.heap - before.heap) / agents, kib(connected.rss - before.rss) / agents,
                kib(connected.direct - before.direct) / agents);
    }

    static long percentile(long[] sorted, int percent) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static long max(long[] sorted) {
        return sorted.length == 0 ? 0 : sorted[sorted.length - 1];
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }

    private static double kib(long bytes) {
        return bytes / 1024.0;
    }

    static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }

    static void log(String format, Object... arguments) {
        System.err.printf("[agent-channel] " + format + "%n", arguments);
    }

    static void deleteRecursively(Path directory) throws IOException {
        try (var paths = Files.walk(directory)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /** Used heap after full collections, resident set, and what Netty's allocator took outside the heap. */
    record Memory(long heap, long rss, long direct) {
        static Memory measure() throws InterruptedException, IOException {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(200);
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            long rss = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(line -> line.startsWith("VmRSS:"))
                    .mapToLong(line -> Long.parseLong(line.replaceAll("\\D", "")) * 1024).findFirst().orElse(0);
            // Netty counts the direct memory it allocates without a Cleaner itself; the rest is NIO's.
            long nettyCounted = Math.max(0, io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.usedDirectMemory());
            long nio = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream().filter(pool -> pool.getName().equals("direct"))
                    .mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
            return new Memory(heap, rss, nettyCounted + nio);
        }
    }

    /** The agents, in this JVM or all of them in a child JVM. */
    static final class AgentsProcess {
        private AgentsProcess() {
        }

        static AgentChannelClient connect(String target, Path certificates, String host) throws IOException {
            TlsFiles tls = new TlsFiles(certificates.getParent().resolve("ca").resolve(CertificateAuthority.CERTIFICATE_FILE),
                    certificates.resolve(host + ".crt"), certificates.resolve(host + ".key"));
            // The simulated agent applies nothing; the client still builds and keeps each state and diff.
            return AgentChannelClient.connect(target, tls, host, change -> {
            });
        }

        static Process start(Options options, String target, Path certificates) throws IOException {
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> command = List.of(java, "-Xmx" + options.childHeap,
                    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                    AgentChannelBenchmark.class.getName(), "--agents-of", target, certificates.toString(),
                    Integer.toString(options.agents), Long.toString(options.maxSeconds));
            Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
            return process;
        }

        /** The child: connects the agents, then lives until the parent closes its stdin (or dies) or the time bound. */
        static void run(String[] args) throws Exception {
            String target = args[1];
            Path certificates = Path.of(args[2]);
            int agents = Integer.parseInt(args[3]);
            exitAfter(Long.parseLong(args[4]));
            List<AgentChannelClient> clients = new ArrayList<>();
            for (int i = 0; i < agents; i++) {
                clients.add(connect(target, certificates, hostName(i)));
            }
            log("child JVM: %d agents connecting", agents);
            while (System.in.read() >= 0) {
                // The parent keeps our stdin open while it runs; end of it is our signal to go.
            }
            clients.forEach(AgentChannelClient::close);
            System.exit(0);
        }
    }
}
