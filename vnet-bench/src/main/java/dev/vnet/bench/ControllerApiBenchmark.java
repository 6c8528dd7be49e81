package dev.vnet.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vnet.controller.Controller;
import dev.vnet.controller.ControllerProcess;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.api.client.ApiResponse;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.channel.client.AgentChannelClient;
import dev.vnet.controller.graph.Resource;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.store.InMemoryConfigStore;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Time from a REST API call to "all agents applied", through the whole controller: the HTTP API, the
 * resource graph, the registry derived from it, the agent channel, and agents acknowledging.
 *
 * <p>Starts a {@link ControllerProcess} in this JVM (in-memory store; agents' listener with mutual TLS
 * and the API on loopback), declares {@code --agents} hosts (default 1,000), networks of
 * {@code --hosts-per-network} hosts with a /16 subnet each, and {@code --vms} VMs per host through the
 * controller's Java API (the set-up is not what is measured), connects one {@link AgentChannelClient}
 * per host (its own certificate and TLS connection) and waits until all applied their state. Then,
 * {@code --changes} times, it creates a VM on a random host with {@code POST /v2.0/vms?wait=true} and
 * deletes it with {@code DELETE ...?wait=true}: each call returns once every host the change touched
 * (the VM's host and every host of its network) has acknowledged it, so the call's duration is the
 * time from API call to all affected agents applied. Prints p50, p99 and max per kind of call, and the
 * heap and resident set per connected agent (both ends of each connection are in this JVM).
 */
public final class ControllerApiBenchmark {
    private static final Duration AWAIT = Duration.ofSeconds(30);

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new java.util.HashMap<>(Map.of("--agents", "1000", "--vms", "10", "--hosts-per-network", "10",
                "--changes", "200", "--warmup", "20", "--max-seconds", "900", "--seed", "1"));
        for (int i = 0; i < args.length; i += 2) {
            if (!options.containsKey(args[i]) || i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown option or missing value: " + args[i] + " (options: " + options.keySet() + ")");
            }
            options.put(args[i], args[i + 1]);
        }
        int agents = Integer.parseInt(options.get("--agents"));
        int vmsPerHost = Integer.parseInt(options.get("--vms"));
        int hostsPerNetwork = Integer.parseInt(options.get("--hosts-per-network"));
        int changes = Integer.parseInt(options.get("--changes"));
        int warmup = Integer.parseInt(options.get("--warmup"));
        long maxSeconds = Long.parseLong(options.get("--max-seconds"));
        Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("controller API benchmark: still running after " + maxSeconds + " s; giving up");
            Runtime.getRuntime().halt(3);
        });
        run(agents, vmsPerHost, hostsPerNetwork, changes, warmup, Long.parseLong(options.get("--seed")));
        System.exit(0);
    }

    private static void run(int agents, int vmsPerHost, int hostsPerNetwork, int changes, int warmup, long seed) throws Exception {
        Path directory = Files.createTempDirectory("vnet-controller-api-bench");
        List<AgentChannelClient> clients = new ArrayList<>();
        ControllerProcess controller = null;
        try {
            long started = System.nanoTime();
            CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-bench-ca");
            Path certificates = directory.resolve("certs");
            TlsFiles serverTls = ca.issue("controller", List.of(InetAddress.getByName("127.0.0.1")), certificates);
            for (int i = 0; i < agents; i++) {
                ca.issue(AgentChannelBenchmark.hostName(i), List.of(), certificates);
            }
            AgentChannelBenchmark.log("issued %d certificates in %.1f s", agents, AgentChannelBenchmark.seconds(started));
            controller = ControllerProcess.start(new ControllerProcess.Options(new InetSocketAddress("127.0.0.1", 0), serverTls, null,
                    new InetSocketAddress("127.0.0.1", 0), null, RegistryConfig.defaults(), new InMemoryConfigStore()));

            long declaring = System.nanoTime();
            Controller model = controller.controller();
            String project = model.createProject("bench").value().id();
            int networks = (agents + hostsPerNetwork - 1) / hostsPerNetwork;
            List<String> networkIds = new ArrayList<>();
            List<String> subnetIds = new ArrayList<>();
            for (int n = 0; n < networks; n++) {
                String network = model.createNetwork(project, "net" + n).value().id();
                networkIds.add(network);
                subnetIds.add(model.createSubnet(network, "s", "10." + (n % 250) + ".0.0/16").value().id());
            }
            List<String> hostIds = new ArrayList<>();
            for (int i = 0; i < agents; i++) {
                Resource host = model.createHost(AgentChannelBenchmark.hostName(i), "10.255." + (i / 250) + "." + (i % 250 + 1)).value();
                hostIds.add(host.id());
                for (int v = 0; v < vmsPerHost; v++) {
                    String port = model.createPort(subnetIds.get(i / hostsPerNetwork), "p" + i + "-" + v, null).value().id();
                    model.createVm(project, "vm" + i + "-" + v, host.id(), List.of(port));
                }
            }
            AgentChannelBenchmark.log("declared %d hosts, %d networks, %d VMs in %.1f s", agents, networks, agents * vmsPerHost,
                    AgentChannelBenchmark.seconds(declaring));

            AgentChannelBenchmark.Memory before = AgentChannelBenchmark.Memory.measure();
            String target = "127.0.0.1:" + controller.agentsAddress().orElseThrow().getPort();
            long connecting = System.nanoTime();
            for (int i = 0; i < agents; i++) {
                clients.add(AgentChannelBenchmark.AgentsProcess.connect(target, certificates, AgentChannelBenchmark.hostName(i)));
            }
            SyncStatus initial = model.awaitApplied(model.version(), Duration.ofSeconds(600));
            if (!initial.complete()) {
                throw new IllegalStateException(initial.pendingHosts().size() + " agents never applied their state");
            }
            double syncSeconds = AgentChannelBenchmark.seconds(connecting);
            AgentChannelBenchmark.Memory connected = AgentChannelBenchmark.Memory.measure();
            long heapPerAgent = (connected.heap() - before.heap()) / agents;
            long rssPerAgent = (connected.rss() - before.rss()) / agents;
            AgentChannelBenchmark.log("all %d agents applied their state in %.1f s", agents, syncSeconds);

            String api = "http://127.0.0.1:" + controller.api().tcpAddress().orElseThrow().getPort();
            Random random = new Random(seed);
            long[] creates = new long[changes];
            long[] deletes = new long[changes];
            int incomplete = 0;
            try (ApiClient client = ApiClient.connect(api)) {
                for (int c = -warmup; c < changes; c++) {
                    int host = random.nextInt(agents);
                    long start = System.nanoTime();
                    ApiResponse created = client.post("/v2.0/vms?wait=true&timeout=" + AWAIT.toSeconds(), Map.of("vm", Map.of(
                            "name", "added" + c, "host", hostIds.get(host), "network_id", networkIds.get(host / hostsPerNetwork))));
                    long createdAt = System.nanoTime();
                    JsonNode vm = created.body().path("vm");
                    ApiResponse deleted = client.delete("/v2.0/vms/" + vm.path("id").asText() + "?wait=true&timeout=" + AWAIT.toSeconds());
                    long deletedAt = System.nanoTime();
                    client.delete("/v2.0/ports/" + vm.path("port_id").asText());
                    if (c >= 0) {
                        creates[c] = createdAt - start;
                        deletes[c] = deletedAt - createdAt;
                        for (ApiResponse response : List.of(created, deleted)) {
                            if (!response.header("X-Vnet-Sync").orElse("").equals("complete")) {
                                incomplete++;
                            }
                        }
                    }
                }
            }
            System.out.println();
            System.out.printf("Controller API -> all agents applied: %d agents x %d VMs, networks of %d hosts (%d agents told per change), "
                    + "%d creates and %d deletes after %d warm-up pairs; HTTP on loopback, agents over mutual TLS%n",
                    agents, vmsPerHost, hostsPerNetwork, hostsPerNetwork, changes, changes, warmup);
            System.out.printf("| call (?wait=true) | p50 ms | p99 ms | max ms |%n|---|---|---|---|%n");
            print("POST /v2.0/vms", creates);
            print("DELETE /v2.0/vms/{id}", deletes);
            if (incomplete > 0) {
                System.out.printf("%d calls returned before every affected agent applied (X-Vnet-Sync pending)%n", incomplete);
            }
            System.out.printf("Initial connect and full sync of all agents: %.1f s%n", syncSeconds);
            System.out.printf("Per connected agent (controller and agent ends in one JVM): heap %.1f KiB, RSS %.1f KiB%n",
                    heapPerAgent / 1024.0, rssPerAgent / 1024.0);
        } finally {
            clients.forEach(AgentChannelClient::close);
            if (controller != null) {
                controller.close();
            }
            AgentChannelBenchmark.deleteRecursively(directory);
        }
    }

    private static void print(String call, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf("| %s | %.2f | %.2f | %.2f |%n", call, AgentChannelBenchmark.percentile(sorted, 50) / 1e6,
                AgentChannelBenchmark.percentile(sorted, 99) / 1e6,
                sorted[sorted.length - 1] / 1e6);
    }
}
