package dev.vnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.api.client.ApiResponse;
import dev.vnet.gateway.config.GatewaySpec;
import dev.vnet.gateway.config.LoadBalancer;
import dev.vnet.gateway.path.GatewayCounters;
import dev.vnet.gateway.path.IngressTokenSource;
import dev.vnet.gateway.path.NetworkKeys;
import dev.vnet.gateway.process.GatewayConfiguration;
import dev.vnet.gateway.process.GatewayRuntime;
import dev.vnet.registry.GatewayAssignment;
import dev.vnet.registry.HostAssignments;
import dev.vnet.registry.client.RegistryClient;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.wire.Ipv4Address;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * {@code vnet gateway}: a load-balancing gateway (seed 003, FIG. 7–9C) in the current network
 * namespace. It registers itself with the controller (so the controller makes it a gateway of every
 * network in the registry), then once a second reads the load balancers from the controller's API
 * and its network keys from the registry, and applies whatever changed. Ingress tokens come from the
 * registry on demand. A status file (JSON: state, counters, live flows, health changes) is rewritten
 * every second for operators and tests.
 */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = "Runs a load-balancing gateway between a public side (a TUN device) and the virtual network.")
final class GatewayCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayCommand.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REFRESH = Duration.ofSeconds(1);

    @Option(names = "--name", required = true, description = "The gateway's name: its certificate's CN in --tls-dir.")
    String name;

    @Option(names = "--api", required = true, description = "The controller's API: unix:/path or http://host:port.")
    String api;

    @Option(names = "--registry", required = true, description = "The registry (the controller's mutual-TLS port), host:port.")
    String registry;

    @Option(names = "--tls-dir", required = true, description = "Directory with ca.crt, NAME.crt and NAME.key.")
    Path tlsDirectory;

    @Option(names = "--underlay", required = true, description = "The gateway's underlay IPv4 address.")
    String underlay;

    @Option(names = "--port", defaultValue = "4790", description = "The UDP port VMs' hosts reach the gateway on (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--public-address", required = true, description = "The gateway's public address (egress translation).")
    String publicAddress;

    @Option(names = "--location", defaultValue = "", description = "The gateway's location label (for locality).")
    String location;

    @Option(names = "--tun", defaultValue = "vgw0", description = "The public side's TUN device (default ${DEFAULT-VALUE}).")
    String tun;

    @Option(names = "--underlay-mtu", defaultValue = "1500", description = "The underlay's IP MTU (default ${DEFAULT-VALUE}).")
    int underlayMtu;

    @Option(names = "--flows", defaultValue = "1048576", description = "Flow table capacity, a power of two (default ${DEFAULT-VALUE}).")
    int flowCapacity;

    @Option(names = "--status-file", description = "Where to write the gateway's status (JSON) every second.")
    Path statusFile;

    @Override
    public Integer call() throws Exception {
        GatewaySpec spec = new GatewaySpec(name, Ipv4Address.parse(underlay), port, location, Ipv4Address.parse(publicAddress));
        TlsFiles tls = new TlsFiles(tlsDirectory.resolve("ca.crt"), tlsDirectory.resolve(name + ".crt"), tlsDirectory.resolve(name + ".key"));
        try (ApiClient controller = ApiClient.connect(api); RegistryClient registryClient = RegistryClient.connect(registry, tls)) {
            register(controller, spec);
            GatewayCounters counters = new GatewayCounters();
            KeysHolder keys = new KeysHolder();
            RegistryClient tokens = registryClient.withDeadline(Duration.ofSeconds(2));
            IngressTokenSource source = (networkId, from, to) -> ingressToken(tokens, keys.current.nameOf(networkId), from, to);
            GatewayRuntime.Settings settings = new GatewayRuntime.Settings(name, spec.underlayAddress(), port, spec.publicAddress(),
                    underlayMtu, location, tun, flowCapacity, 50_000);
            GatewayConfiguration configuration = new GatewayConfiguration(location);
            try (GatewayRuntime runtime = new GatewayRuntime(settings, source, counters)) {
                LOG.info("gateway {} on {}:{} (public {}, location '{}')", name, underlay, port, publicAddress, location);
                String applied = null;
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        HostAssignments assignments = registryClient.withDeadline(Duration.ofSeconds(5)).getHostAssignments();
                        keys.current = keysOf(assignments);
                        List<LoadBalancer> loadBalancers = loadBalancers(controller);
                        String fingerprint = fingerprint(assignments) + ":" + loadBalancers;
                        if (!fingerprint.equals(applied)) {
                            GatewayConfiguration.Built built = configuration.build(loadBalancers, keys.current);
                            runtime.apply(built.tables(), keys.current, assignments.tokenTtl().toSeconds(),
                                    assignments.clockSkew().toSeconds(), built.targets());
                            built.skipped().forEach(reason -> LOG.warn("skipped load balancer {}", reason));
                            LOG.info("serving {} VIPs for networks {}", built.tables().services().size(), networks(keys.current));
                            applied = fingerprint;
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("cannot refresh the configuration: {}", e.getMessage());
                    }
                    writeStatus(runtime, counters);
                    Thread.sleep(REFRESH.toMillis());
                }
            }
        }
        return 0;
    }

    private static final class KeysHolder {
        volatile NetworkKeys current = NetworkKeys.NONE;
    }

    /** Registers with the controller, waiting for it to answer: the controller may start later. */
    private void register(ApiClient controller, GatewaySpec spec) throws InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.set("gateway", spec.toJson());
        for (int attempt = 1; ; attempt++) {
            try {
                ApiResponse response = controller.post("/v2.0/gateways", body);
                if (response.status() / 100 == 2) {
                    return;
                }
                throw new IllegalStateException("the controller refused gateway " + name + ": " + response.body());
            } catch (IllegalStateException refused) {
                throw refused;
            } catch (RuntimeException e) {
                if (attempt % 20 == 1) {
                    LOG.warn("the controller at {} does not answer yet ({}); retrying", api, e.getMessage());
                }
                Thread.sleep(250);
            }
        }
    }

    private static List<LoadBalancer> loadBalancers(ApiClient controller) {
        ApiResponse response = controller.get("/v2.0/lbaas/loadbalancers");
        if (response.status() != 200) {
            throw new IllegalStateException("GET /v2.0/lbaas/loadbalancers: " + response.status() + " " + response.body());
        }
        List<LoadBalancer> result = new ArrayList<>();
        for (JsonNode view : response.body().path("loadbalancers")) {
            result.add(LoadBalancer.fromJson(view));
        }
        return result;
    }

    private static NetworkKeys keysOf(HostAssignments assignments) {
        List<GatewayAssignment> gateways = assignments.gateways();
        long[] ids = new long[gateways.size()];
        String[] names = new String[gateways.size()];
        byte[][] keys = new byte[gateways.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = gateways.get(i).networkId();
            names[i] = gateways.get(i).gateway().network();
            keys[i] = gateways.get(i).key();
        }
        return new NetworkKeys(ids, names, keys);
    }

    private static String fingerprint(HostAssignments assignments) {
        StringBuilder text = new StringBuilder();
        for (GatewayAssignment gateway : assignments.gateways()) {
            text.append(gateway.networkId()).append('/').append(java.util.Arrays.hashCode(gateway.key())).append(',');
        }
        return text.toString();
    }

    private static List<String> networks(NetworkKeys keys) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            names.add(keys.name(i));
        }
        return names;
    }

    private static CompletableFuture<IngressTokenSource.IngressGrant> ingressToken(RegistryClient client, String network, int from, int to) {
        if (network == null) {
            return CompletableFuture.failedFuture(new IngressTokenSource.IngressRefusedException("no key for the network"));
        }
        return client.requestIngressToken(network, from, to).handle((grant, failure) -> {
            if (failure == null) {
                return new IngressTokenSource.IngressGrant(grant.destinationHost(), grant.destinationPort(), grant.token(), grant.expiry());
            }
            throw RegistryTokenSource.failureOf(failure, IngressTokenSource.IngressRefusedException::new);
        });
    }

    private void writeStatus(GatewayRuntime runtime, GatewayCounters counters) {
        if (statusFile == null) {
            return;
        }
        ObjectNode status = JSON.createObjectNode();
        status.put("state", "running");
        status.put("name", name);
        status.put("pid", ProcessHandle.current().pid());
        ObjectNode values = status.putObject("counters");
        counters.snapshot().forEach(values::put);
        var health = status.putArray("health_changes");
        runtime.health().transitions().forEach(health::add);
        var vips = status.putArray("vips");
        runtime.context().tables().services().forEach(service -> {
            ObjectNode vip = vips.addObject();
            vip.put("name", service.name());
            vip.put("address", Ipv4Address.toString(service.address()));
            var backends = vip.putArray("backends");
            boolean[] healthy = service.health();
            for (int i = 0; i < service.backendCount(); i++) {
                backends.addObject().put("vm", service.backend(i).vm()).put("healthy", healthy[i]);
            }
        });
        try {
            StatusFiles.replace(statusFile, JSON.writeValueAsString(status));
        } catch (java.io.IOException e) {
            LOG.warn("cannot write {}: {}", statusFile, e.getMessage());
        }
    }
}
