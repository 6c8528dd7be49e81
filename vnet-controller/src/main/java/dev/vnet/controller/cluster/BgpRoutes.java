/*
 * A controller node's routes by BGP L3VPN (seed 001: nodes exchange routing information by BGP, so that
 * other vendors' equipment can peer too).
 *
 * What a node originates: one VPN-IPv4 route per VM on the hosts it owns, as RFC 4364 lays out a VRF's
 * route: RD = the host's underlay address : the network's number (type 1, one RD per (network, host)),
 * prefix = the VM's address /32, label = the network id (the VNI-like identity the data plane uses),
 * next hop = the host's underlay address (the tunnel endpoint), route target = AS : network id, and the
 * Encapsulation community naming VNP. The node keeps the set it originates equal to what it owns: every
 * time its hosts or their VMs change it diffs the wanted set against the originated one and originates
 * or withdraws only the difference.
 *
 * What a node pushes to its agents: the best paths of its Loc-RIB (its own routes and every peer's),
 * grouped by the network their route target names; a host gets the routes of the networks it has VMs
 * in, and nothing else (route-target filtering). Best-path changes arrive on the speaker's event loop,
 * which must not block, so the networks they touch are collected and handed to the node on a thread of
 * this class's, coalesced: a burst of a thousand route changes becomes a few publishes.
 */
package dev.vnet.controller.cluster;

import dev.vnet.bgp.BgpSpeaker;
import dev.vnet.bgp.PeerConfig;
import dev.vnet.bgp.PeerStatus;
import dev.vnet.bgp.SpeakerConfig;
import dev.vnet.bgp.VpnRoute;
import dev.vnet.bgp.rib.VpnPrefix;
import dev.vnet.bgp.session.ConnectRetry;
import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.RouteDistinguisher;
import dev.vnet.bgp.wire.TunnelType;
import dev.vnet.controller.channel.Route;
import dev.vnet.controller.channel.RouteKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** BGP L3VPN route origination and learning for one controller node; see the top of this file. */
public final class BgpRoutes implements AutoCloseable {
    /** vnet's default private AS. */
    public static final int DEFAULT_AS = 64512;
    /** RDs carry a network's number in 16 bits, labels in 20: the networks a cluster can route. */
    public static final long MAX_NETWORK_ID = 0xFFFF;
    private static final Logger LOG = LoggerFactory.getLogger(BgpRoutes.class);

    /**
     * @param as     this cluster's AS (2 octets: route targets are AS : network id)
     * @param listen where the speaker accepts peers (its address is also where it connects from)
     * @param peers  the other controller nodes (iBGP, same AS) and any other speaker (GoBGP, a router)
     */
    public record Config(int as, InetSocketAddress listen, List<PeerConfig> peers) {
    }

    /** A VM this node originates a route for. */
    public record OwnVm(long networkId, int address, int hostAddress) {
    }

    private final int as;
    private final BgpSpeaker speaker;
    private final Consumer<Set<Long>> networksChanged;
    /** Best paths by the network their route target names. Written on the speaker's event loop. */
    private final Map<Long, Map<VpnPrefix, VpnRoute>> byNetwork = new ConcurrentHashMap<>();
    private final Set<Long> pendingNetworks = ConcurrentHashMap.newKeySet();
    private final Thread notifier;
    private final Object wake = new Object();
    private volatile boolean running = true;
    /** What this node originates now, by key. Guarded by this. */
    private final Map<VpnPrefix, VpnRoute> originated = new HashMap<>();

    private BgpRoutes(int as, BgpSpeaker speaker, Consumer<Set<Long>> networksChanged) {
        this.as = as;
        this.speaker = speaker;
        this.networksChanged = networksChanged;
        this.notifier = Thread.ofVirtual().name("bgp routes").unstarted(this::notifyLoop);
    }

    /**
     * Starts the speaker.
     *
     * @param networksChanged told (on a thread of this class's) which networks' routes changed
     */
    public static BgpRoutes start(Config config, int routerId, Consumer<Set<Long>> networksChanged) throws IOException {
        SpeakerConfig.Builder builder = SpeakerConfig.builder(config.as(), routerId).listen(config.listen())
                .connectRetry(new ConnectRetry(Duration.ofMillis(500), Duration.ofSeconds(5))).holdTime(9);
        config.peers().forEach(builder::peer);
        BgpSpeaker speaker = BgpSpeaker.start(builder.build());
        BgpRoutes routes = new BgpRoutes(config.as(), speaker, networksChanged);
        speaker.addListener(routes::bestPathChanged);
        routes.notifier.start();
        LOG.info("BGP speaker AS {} on {} with peers {}", config.as(), config.listen(),
                config.peers().stream().map(p -> p.address().getHostString() + ":" + p.address().getPort()).toList());
        return routes;
    }

    /** The route vnet originates for a VM. */
    public VpnRoute routeOf(OwnVm vm) {
        if (vm.networkId() < 1 || vm.networkId() > MAX_NETWORK_ID) {
            throw new IllegalArgumentException("network id " + vm.networkId() + " cannot be routed by BGP (1-" + MAX_NETWORK_ID + ")");
        }
        return new VpnRoute(RouteDistinguisher.forHost(vm.hostAddress(), (int) vm.networkId()), new Ipv4Prefix(vm.address(), 32),
                (int) vm.networkId(), vm.hostAddress(),
                List.of(ExtendedCommunity.routeTargetForNetwork(as, (int) vm.networkId()), ExtendedCommunity.encapsulation(TunnelType.VNP)));
    }

    /** Makes what this node originates exactly the routes of {@code vms}: originates the new, withdraws the gone. */
    public synchronized void originateExactly(Collection<OwnVm> vms) {
        Map<VpnPrefix, VpnRoute> wanted = new HashMap<>();
        for (OwnVm vm : vms) {
            if (vm.networkId() >= 1 && vm.networkId() <= MAX_NETWORK_ID) {
                VpnRoute route = routeOf(vm);
                wanted.put(route.key(), route);
            }
        }
        List<VpnRoute> added = wanted.values().stream().filter(route -> !route.equals(originated.get(route.key()))).toList();
        for (VpnPrefix gone : new HashSet<>(originated.keySet())) {
            if (!wanted.containsKey(gone)) {
                speaker.withdraw(new RouteDistinguisher(gone.rd()), new Ipv4Prefix(gone.address(), gone.length()));
                originated.remove(gone);
            }
        }
        if (!added.isEmpty()) {
            speaker.originateAll(added);
            added.forEach(route -> originated.put(route.key(), route));
        }
    }

    /** The best paths of {@code networkIds}, as the agents' channel carries routes. */
    public Map<RouteKey, Route> routesOf(Set<Long> networkIds) {
        Map<RouteKey, Route> routes = new HashMap<>();
        for (long networkId : networkIds) {
            for (VpnRoute route : byNetwork.getOrDefault(networkId, Map.of()).values()) {
                List<Integer> tunnels = route.tunnelTypes();
                String encapsulation = tunnels.isEmpty() ? "" : tunnels.getFirst() == TunnelType.VNP ? Route.VNP
                        : TunnelType.name(tunnels.getFirst()).toLowerCase();
                Route channelRoute = new Route(networkId, route.prefix().address(), 0, "", route.nextHop(), 0, "", encapsulation);
                routes.put(channelRoute.key(), channelRoute);
            }
        }
        return routes;
    }

    public List<PeerStatus> peers() {
        return speaker.peers();
    }

    public int locRibSize() {
        return speaker.locRibSize();
    }

    /** The networks a route is for: those of its route targets in this cluster's AS. */
    private Set<Long> networksOf(VpnRoute route) {
        Set<Long> networks = new HashSet<>();
        for (ExtendedCommunity target : route.routeTargets()) {
            if (target.type() == ExtendedCommunity.TYPE_AS2 && ((target.value() >>> 32) & 0xFFFF) == as) {
                networks.add(target.value() & 0xFFFF_FFFFL);
            }
        }
        return networks;
    }

    /** On the speaker's event loop: update the table, note the networks, wake the notifier. */
    private void bestPathChanged(VpnRoute previous, VpnRoute current) {
        if (previous != null) {
            for (long network : networksOf(previous)) {
                byNetwork.computeIfPresent(network, (n, routes) -> {
                    routes.remove(previous.key());
                    return routes.isEmpty() ? null : routes;
                });
                pendingNetworks.add(network);
            }
        }
        if (current != null) {
            for (long network : networksOf(current)) {
                byNetwork.computeIfAbsent(network, n -> new ConcurrentHashMap<>()).put(current.key(), current);
                pendingNetworks.add(network);
            }
        }
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void notifyLoop() {
        while (running) {
            synchronized (wake) {
                while (running && pendingNetworks.isEmpty()) {
                    try {
                        wake.wait(500);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            Set<Long> networks = new HashSet<>();
            for (Long network : pendingNetworks) {
                if (pendingNetworks.remove(network)) {
                    networks.add(network);
                }
            }
            if (!networks.isEmpty()) {
                try {
                    networksChanged.accept(networks);
                } catch (RuntimeException e) {
                    LOG.error("publishing the routes of networks {} failed", networks, e);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        notifier.interrupt();
        speaker.close();
    }
}
