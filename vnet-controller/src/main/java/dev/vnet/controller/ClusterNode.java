/*
 * A controller node in a cluster (seed 001: nodes are peers, each controls a non-overlapping set of
 * elements). Several `vnet controller --node-id ...` processes share one config store (etcd).
 *
 * Who does what:
 * - Membership (ClusterMembership): every node holds a lease-bound key; the live nodes are whoever
 *   holds one.
 * - Hosts: each host belongs to one live node, by rendezvous hashing over the live nodes
 *   (HostOwnership). A node serves the agent channel of its own hosts only; an agent that reaches
 *   another node is told its owner's address and goes there. When the members change, a node ends the
 *   streams of the hosts it lost, naming their new owner, so they move within a lease TTL plus a
 *   reconnect (a few seconds) while their agents keep forwarding with what they hold.
 * - Configuration: one node at a time is the writer (WriterElection): it runs the resource graph and
 *   the write path (Controller), exactly as a single controller does. The other nodes forward API
 *   requests to it (ClusterApiDispatcher) and follow the store: when records under the graph's or the
 *   registry's prefix change, they reload them (a read-only graph, RegistryService.refresh()) and
 *   publish to their own hosts whatever changed for them. A node that becomes the writer has been
 *   following, reloads once more and takes over the write path; one that stops being the writer drops
 *   it and follows again.
 * - Tokens: any node's registry answers its own agents' token requests from the followed state.
 * - Fencing: the graph and the registry write through a FencedConfigStore, each write conditional on
 *   the writer key still being the one this node won, so a writer that lost its role (paused past its
 *   lease) cannot write even once more.
 *
 * Routes: with BGP configured (BgpRoutes), each node learns from its own hosts' agents which VMs they have
 * set up (they report it on the channel after each change), originates a VPN-IPv4 route for each that
 * the registry places there, and peers with the other nodes (iBGP full mesh) and any other speaker
 * (GoBGP, a router); its agents get the best paths of the networks they have VMs in, own and learned
 * alike. Without it, every node reads
 * every host's routes from the registry in the shared store.
 */
package dev.vnet.controller;

import dev.vnet.controller.api.ApiServer;
import dev.vnet.controller.api.ClusterApiDispatcher;
import dev.vnet.controller.channel.AgentChannelService;
import dev.vnet.controller.channel.HostStatePublisher;
import dev.vnet.controller.cluster.BgpRoutes;
import dev.vnet.controller.cluster.ClusterMembership;
import dev.vnet.controller.cluster.FencedConfigStore;
import dev.vnet.controller.cluster.WriterElection;
import dev.vnet.controller.graph.ResourceGraph;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.server.RegistryServer;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.Event;
import dev.vnet.store.Watch;
import dev.vnet.store.WatchListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** One controller node of a cluster; how the nodes share the work is described at the top of this file. */
public final class ClusterNode implements AutoCloseable {
    /** How long a dead node keeps its hosts: its lease's TTL (etcd's minimum is 2 s). */
    public static final Duration MEMBERSHIP_TTL = Duration.ofSeconds(2);
    /** The version of vnet's own extensions this node speaks (BGP capability, channel). */
    public static final int PROTOCOL_VERSION = 1;
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    /**
     * @param nodeId        unique among the live nodes
     * @param agentsAddress where this node's agents connect (HOST:PORT): what redirects name
     * @param apiUrl        this node's REST API (http://HOST:PORT): where the others forward when it is the writer
     */
    public record Identity(String nodeId, String agentsAddress, String apiUrl, BgpRoutes.Config bgp) {
        /** A node whose routes travel in the store only (no BGP). */
        public Identity(String nodeId, String agentsAddress, String apiUrl) {
            this(nodeId, agentsAddress, apiUrl, null);
        }
    }

    private final ConfigStore store;
    /** What the graph and the registry write through: only while this node is the writer (FencedConfigStore). */
    private final FencedConfigStore fenced;
    private final RegistryService registry;
    private final HostStatePublisher publisher;
    private final ClusterMembership membership;
    private final ClusterApiDispatcher dispatcher;
    private volatile Controller writer;
    /** The store revision this node has caught up with (its graph, registry and agents' deltas). */
    private volatile long followedRevision;
    private volatile ResourceGraph followed;
    private WriterElection election;
    private Watch following;
    private RegistryServer grpc;
    private ApiServer api;

    private volatile BgpRoutes bgp;
    /** What each host's agent last reported it has set up (network id, address). */
    private final Map<String, Set<dev.vnet.controller.channel.RouteKey>> reportedByHost = new java.util.concurrent.ConcurrentHashMap<>();

    private ClusterNode(ConfigStore store, FencedConfigStore fenced, RegistryService registry, ClusterMembership membership,
                        boolean routesByBgp) {
        this.store = store;
        this.fenced = fenced;
        this.registry = registry;
        this.membership = membership;
        this.publisher = new HostStatePublisher(routesByBgp
                ? new RegistryDesiredState(registry, this::graph, networks -> bgp == null ? Map.of() : bgp.routesOf(networks))
                : new RegistryDesiredState(registry, this::graph), store.revision());
        this.dispatcher = new ClusterApiDispatcher(() -> election == null ? Optional.empty()
                : election.writer().filter(w -> !w.id().equals(membership.self().id())).map(ClusterMembership.Member::api),
                this::awaitLocally);
    }

    /** Joins the cluster and serves; the store is the process's from here on and closed with it. */
    public static ClusterNode start(ControllerProcess.Options options, Identity identity) throws IOException {
        ConfigStore store = options.store();
        ClusterNode node = null;
        try {
            FencedConfigStore fenced = new FencedConfigStore(store, WriterElection.KEY);
            RegistryService registry = new RegistryService(fenced, RegistryService.STORE_PREFIX, options.config());
            ClusterMembership membership = ClusterMembership.join(store, new ClusterMembership.Member(identity.nodeId(),
                    identity.agentsAddress(), identity.apiUrl(), PROTOCOL_VERSION), MEMBERSHIP_TTL);
            node = new ClusterNode(store, fenced, registry, membership, identity.bgp() != null);
            if (identity.bgp() != null) {
                int routerId = dev.vnet.wire.Ipv4Address.parse(identity.agentsAddress().substring(0, identity.agentsAddress().lastIndexOf(':')));
                ClusterNode started = node;
                node.bgp = BgpRoutes.start(identity.bgp(), routerId, started::routesChanged);
            }
            node.serve(options);
            return node;
        } catch (IOException | RuntimeException e) {
            if (node != null) {
                node.close();
            } else {
                store.close();
            }
            throw e;
        }
    }

    private void serve(ControllerProcess.Options options) throws IOException {
        followed = new ResourceGraph(fenced);
        following = store.watch("/", store.revision() + 1, new WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                follow(events);
            }

            @Override
            public void onError(RuntimeException error) {
                LOG.error("node {}: following the store ended: {}", membership.self().id(), error.toString());
            }
        });
        grpc = RegistryServer.start(registry, options.agents(), options.tls(), options.adminSocket(),
                List.of(new AgentChannelService(publisher, this::ownerElsewhere, this::reported)));
        membership.onChange(live -> {
            publisher.endStreamsOfHostsNotOwned(host -> !membership.owns(host), this::ownerElsewhere);
            originate();
        });
        originate();
        election = WriterElection.start(store, membership, this::writerChanged);
        api = ApiServer.start(dispatcher, options.api(), options.apiSocket());
        LOG.info("controller node {} ready: agents on {}, API on {}; live nodes {}", membership.self().id(), membership.self().agents(),
                membership.self().api(), membership.live().keySet());
    }

    private Optional<String> ownerElsewhere(String host) {
        return membership.ownerOf(host).filter(owner -> !owner.id().equals(membership.self().id())).map(ClusterMembership.Member::agents);
    }

    /** The graph names come from: the writer's own, or the one this node follows. */
    private ResourceGraph graph() {
        Controller current = writer;
        return current != null ? current.graph() : followed;
    }

    /** Not the writer: catch up with what the writer wrote, and tell this node's hosts what changed for them. */
    private synchronized void follow(List<Event> events) {
        if (writer != null) {
            return; // the writer's own writes, already applied and published
        }
        boolean graphChanged = events.stream().anyMatch(e -> e.key().startsWith("/vnet/graph/"));
        boolean registryChanged = events.stream().anyMatch(e -> e.key().startsWith(RegistryService.STORE_PREFIX));
        if (graphChanged) {
            ResourceGraph previous = followed;
            followed = new ResourceGraph(fenced);
            previous.close();
        }
        if (registryChanged) {
            Set<String> hostsBefore = hostNames();
            registry.refresh();
            // A host deleted through the writer: nothing is to wait for it here either. (A host not yet
            // created, whose agent connected early, is not forgotten: it was never there.)
            hostsBefore.removeAll(hostNames());
            hostsBefore.forEach(publisher::forgetHost);
        }
        if (graphChanged || registryChanged) {
            publisher.publish(events.getLast().revision(), publisher.connectedHosts());
        }
        if (registryChanged) {
            originate();
        }
        followedRevision = events.getLast().revision();
    }

    /**
     * The writer's view of a change: deltas go to the touched hosts this node owns (the other nodes
     * follow the store and tell theirs), and waiting asks every live node about its own hosts.
     */
    private HostChangeSink writerSink() {
        return new HostChangeSink() {
            @Override
            public void publish(long version, Set<String> hosts) {
                publisher.publish(version, owned(hosts));
                originate();
            }

            @Override
            public void forget(Set<String> hosts) {
                hosts.forEach(publisher::forgetHost);
            }

            @Override
            public dev.vnet.controller.channel.SyncStatus awaitApplied(long version, Duration timeout) {
                List<java.util.concurrent.CompletableFuture<dev.vnet.controller.channel.SyncStatus>> answers = new java.util.ArrayList<>();
                for (ClusterMembership.Member node : membership.live().values()) {
                    answers.add(node.id().equals(membership.self().id())
                            ? java.util.concurrent.CompletableFuture.supplyAsync(() -> awaitLocally(version, timeout))
                            : java.util.concurrent.CompletableFuture.supplyAsync(() -> dispatcher.askNode(node.api(), version, timeout)));
                }
                List<String> pending = new java.util.ArrayList<>();
                answers.forEach(answer -> pending.addAll(answer.join().pendingHosts()));
                return new dev.vnet.controller.channel.SyncStatus(pending.isEmpty(), pending);
            }
        };
    }

    /** Whether this node's own hosts applied {@code version}, once this node has followed the store up to it. */
    dev.vnet.controller.channel.SyncStatus awaitLocally(long version, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (writer == null && followedRevision < version && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Set<String> mine = owned(publisher.appliedVersions().keySet());
            return publisher.awaitApplied(version, mine, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new dev.vnet.controller.channel.SyncStatus(false, List.of("(interrupted)"));
        }
    }

    /** A host's agent reported the VMs it has set up: they are what this node originates for the host. */
    private void reported(String host, Set<dev.vnet.controller.channel.RouteKey> routes) {
        reportedByHost.put(host, Set.copyOf(routes));
        originate();
    }

    /**
     * With BGP: originate exactly the routes of the VMs the agents of this node's hosts report they have
     * set up, and that the registry places there (an agent cannot announce an address it was not given).
     * A host whose agent is away keeps its routes, as its VMs keep forwarding.
     */
    private void originate() {
        BgpRoutes routes = bgp;
        if (routes == null) {
            return;
        }
        List<BgpRoutes.OwnVm> own = new java.util.ArrayList<>();
        for (dev.vnet.registry.Vm vm : registry.vms()) {
            Set<dev.vnet.controller.channel.RouteKey> reported = reportedByHost.getOrDefault(vm.host(), Set.of());
            if (membership.owns(vm.host()) && reported.contains(new dev.vnet.controller.channel.RouteKey(vm.networkId(), vm.address()))) {
                registry.host(vm.host()).ifPresent(host -> own.add(new BgpRoutes.OwnVm(vm.networkId(), vm.address(), host.address())));
            }
        }
        routes.originateExactly(own);
    }

    /** BGP's best paths of some networks changed: this node's hosts with VMs in them get the new routes. */
    private void routesChanged(Set<Long> networks) {
        Set<String> hosts = new java.util.HashSet<>();
        for (dev.vnet.registry.Vm vm : registry.vms()) {
            if (networks.contains(vm.networkId()) && membership.owns(vm.host())) {
                hosts.add(vm.host());
            }
        }
        if (!hosts.isEmpty()) {
            publisher.publish(publisher.publishedVersion(), hosts);
        }
    }

    public Optional<BgpRoutes> bgp() {
        return Optional.ofNullable(bgp);
    }

    private Set<String> hostNames() {
        Set<String> names = new java.util.HashSet<>();
        registry.hosts().forEach(host -> names.add(host.name()));
        return names;
    }

    private synchronized void writerChanged(boolean isWriter, long wonAtRevision) {
        if (isWriter) {
            fenced.fence(wonAtRevision);
            registry.refresh();
            Controller controller = new Controller(fenced, registry, writerSink());
            writer = controller;
            dispatcher.serveLocally(controller);
            publisher.publish(store.revision(), publisher.connectedHosts());
        } else {
            fenced.fence(0);
            dispatcher.serveLocally(null);
            Controller previous = writer;
            writer = null;
            if (previous != null) {
                previous.close();
            }
            registry.refresh();
            ResourceGraph old = followed;
            followed = new ResourceGraph(fenced);
            old.close();
        }
    }

    public ClusterMembership membership() {
        return membership;
    }

    public HostStatePublisher publisher() {
        return publisher;
    }

    public boolean isWriter() {
        return writer != null;
    }

    /** The writer's controller, when this node is the writer. */
    public Optional<Controller> controller() {
        return Optional.ofNullable(writer);
    }

    public ApiServer api() {
        return api;
    }

    public Optional<java.net.InetSocketAddress> agentsAddress() {
        return grpc == null ? Optional.empty() : grpc.tcpAddress();
    }

    /** The hosts this node owns among {@code hosts}. */
    public Set<String> owned(Set<String> hosts) {
        return Set.copyOf(hosts.stream().filter(membership::owns).toList());
    }

    /** Leaves the cluster (the others take its hosts and, if it was the writer, its role at once) and stops. */
    @Override
    public void close() {
        if (api != null) {
            api.close();
        }
        if (election != null) {
            election.close();
        }
        membership.close();
        publisher.close();
        if (grpc != null) {
            grpc.close();
        }
        if (following != null) {
            following.close();
        }
        if (bgp != null) {
            bgp.close();
        }
        Controller current = writer;
        if (current != null) {
            current.close();
        }
        if (followed != null) {
            followed.close();
        }
        store.close();
    }
}
