package dev.vnet.gateway.process;

import dev.vnet.gateway.config.HealthCheckSpec;
import dev.vnet.gateway.config.ListenerPort;
import dev.vnet.gateway.config.LoadBalancer;
import dev.vnet.gateway.config.LoadBalancerSpec;
import dev.vnet.gateway.config.Protocol;
import dev.vnet.gateway.health.HealthChecker;
import dev.vnet.gateway.health.Probe;
import dev.vnet.gateway.path.Backend;
import dev.vnet.gateway.path.GatewayTables;
import dev.vnet.gateway.path.NetworkKeys;
import dev.vnet.gateway.path.VipService;
import dev.vnet.wire.Ipv4Address;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the load balancers the controller's API lists into what the gateway runs: a {@link VipService}
 * per load balancer of a network this gateway serves (it holds that network's key), the tables over
 * them, and a health-check target per backend aimed at the backend's probe address.
 *
 * <p>A load balancer whose view (spec and members) did not change keeps its {@link VipService}
 * object, and with it its configuration generation, its backends' health and every flow pinned to
 * them: a refresh that changes nothing disturbs nothing. A changed one gets a new generation; its
 * pinned flows are mapped again by the consistent mapping, so most stay where they were.
 */
public final class GatewayConfiguration {
    private final String location;
    private final Map<String, Entry> current = new HashMap<>();
    private int nextGeneration = 1;

    private record Entry(String view, VipService service, LoadBalancerSpec spec) {
    }

    /** What one configuration gives the runtime. */
    public record Built(GatewayTables tables, List<HealthChecker.Target> targets, List<String> skipped) {
    }

    public GatewayConfiguration(String location) {
        this.location = location == null ? "" : location;
    }

    public synchronized Built build(List<LoadBalancer> loadBalancers, NetworkKeys keys) {
        List<VipService> services = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Map<String, Entry> next = new HashMap<>();
        for (LoadBalancer loadBalancer : loadBalancers) {
            LoadBalancerSpec spec = loadBalancer.spec();
            // The registry names a network by the controller's id for it, which the view carries.
            long networkId = networkId(keys, loadBalancer.networkId());
            if (networkId < 0) {
                skipped.add(spec.name() + ": this gateway does not serve network " + spec.network());
                continue;
            }
            String view = loadBalancer.toJson().toString() + "@" + networkId;
            Entry previous = current.get(spec.name());
            VipService service = previous != null && previous.view.equals(view) ? previous.service
                    : service(spec, loadBalancer.members(), networkId, nextGeneration++);
            Entry entry = new Entry(view, service, spec);
            next.put(spec.name(), entry);
            entries.add(entry);
            services.add(service);
        }
        current.clear();
        current.putAll(next);
        GatewayTables tables = new GatewayTables(services);
        List<HealthChecker.Target> targets = new ArrayList<>();
        for (Entry entry : entries) {
            VipService service = entry.service();
            HealthCheckSpec check = entry.spec().healthCheck();
            Probe probe = switch (check.type()) {
                case ICMP -> Probe.icmp();
                case TCP -> Probe.tcp(check.port());
                case HTTP -> Probe.http(check.port(), check.path(), check.expectedStatus(), Ipv4Address.toString(service.address()));
            };
            for (int backend = 0; backend < service.backendCount(); backend++) {
                Backend target = service.backend(backend);
                int probeAddress = tables.probeOf(target.networkId(), target.address());
                targets.add(new HealthChecker.Target(service, backend, inet(probeAddress), probe, check.intervalMillis(),
                        check.timeoutMillis(), check.upThreshold(), check.downThreshold()));
            }
        }
        return new Built(tables, targets, skipped);
    }

    private VipService service(LoadBalancerSpec spec, List<LoadBalancer.Member> members, long networkId, int generation) {
        List<Backend> backends = members.stream()
                .map(member -> new Backend(member.vm(), networkId, member.address(), member.location() == null ? "" : member.location()))
                .toList();
        int[] tcp = spec.ports().stream().filter(p -> p.protocol() == Protocol.TCP).mapToInt(ListenerPort::port).toArray();
        int[] udp = spec.ports().stream().filter(p -> p.protocol() == Protocol.UDP).mapToInt(ListenerPort::port).toArray();
        return new VipService(spec.name(), networkId, spec.vipAddress(), tcp, udp, spec.forwarding(), spec.flowIdentity(),
                spec.table(), spec.locality(), spec.idleTimeoutSeconds(), backends, location, generation, true);
    }

    private static long networkId(NetworkKeys keys, String network) {
        for (int i = 0; i < keys.size(); i++) {
            if (keys.name(i).equals(network)) {
                return keys.networkId(i);
            }
        }
        return -1;
    }

    private static InetAddress inet(int address) {
        try {
            return InetAddress.getByAddress(new byte[]{(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
