/*
 * Which controller nodes are alive, as every node sees it: each node holds a key under /vnet/nodes/
 * bound to a lease it keeps alive, and watches that prefix.
 *
 * Joining puts the node's key with a new lease, only if no live node has that id (two processes with
 * one id would both believe they own the same hosts). A thread renews the lease every third of its TTL;
 * if a renewal finds the lease gone (the node was paused for longer than the TTL, or the store lost it),
 * the node puts its key again under a new lease rather than running on unseen. Leaving revokes the
 * lease, so the others see the node go at once; a node that dies is seen gone when its lease expires,
 * at most one TTL later. Each node reads the prefix once and then follows it with a watch from the
 * revision after that read, so its view of the members goes through the same sequence of states as
 * the store's, and listeners are told each time the set of live members changes.
 *
 * Host ownership is computed from this view (HostOwnership): nodes agree on owners as soon as they see
 * the same members, with no election and nothing written per host.
 */
package dev.vnet.controller.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.Event;
import dev.vnet.store.KeyValue;
import dev.vnet.store.Lease;
import dev.vnet.store.LeaseNotFoundException;
import dev.vnet.store.Op;
import dev.vnet.store.Compare;
import dev.vnet.store.Txn;
import dev.vnet.store.Watch;
import dev.vnet.store.WatchListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** The live controller nodes, kept by leases in the config store; see the top of this file. */
public final class ClusterMembership implements AutoCloseable {
    public static final String PREFIX = "/vnet/nodes/";
    private static final Logger LOG = LoggerFactory.getLogger(ClusterMembership.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A controller node as the others see it.
     *
     * @param agents          where its agents connect (HOST:PORT, mutual TLS)
     * @param api             its REST API (http://HOST:PORT), or empty
     * @param protocolVersion the version of vnet's own BGP extensions it speaks
     */
    public record Member(String id, String agents, String api, int protocolVersion) {
    }

    private final ConfigStore store;
    private final Member self;
    private final Duration ttl;
    private final List<Consumer<Map<String, Member>>> listeners = new CopyOnWriteArrayList<>();
    private final Thread keeper;
    private volatile Map<String, Member> live = Map.of();
    private volatile long leaseId;
    private volatile boolean running = true;
    private Watch watch;

    private ClusterMembership(ConfigStore store, Member self, Duration ttl) {
        this.store = store;
        this.self = self;
        this.ttl = ttl;
        this.keeper = Thread.ofVirtual().name("membership " + self.id()).unstarted(this::keepAlive);
    }

    /**
     * Joins: puts this node's key under a new lease of {@code ttl} and starts following the members.
     *
     * @throws IllegalStateException if a live node already has this id
     */
    public static ClusterMembership join(ConfigStore store, Member self, Duration ttl) {
        ClusterMembership membership = new ClusterMembership(store, self, ttl);
        membership.register();
        membership.follow();
        membership.keeper.start();
        LOG.info("node {} joined; live nodes: {}", self.id(), membership.live.keySet());
        return membership;
    }

    public Member self() {
        return self;
    }

    /** The lease this node's key lives by; keys bound to it (the writer key) go when the node does. */
    public long leaseId() {
        return leaseId;
    }

    /** The live nodes by id, as of the last change this node has seen. */
    public Map<String, Member> live() {
        return live;
    }

    /** The live node that owns {@code host} ({@link HostOwnership}). */
    public Optional<Member> ownerOf(String host) {
        Map<String, Member> members = live;
        return HostOwnership.ownerOf(host, members.keySet()).map(members::get);
    }

    public boolean owns(String host) {
        return ownerOf(host).map(m -> m.id().equals(self.id())).orElse(false);
    }

    /** Called with the live nodes each time they change (on the store's watch thread). */
    public void onChange(Consumer<Map<String, Member>> listener) {
        listeners.add(listener);
    }

    private String key() {
        return PREFIX + self.id();
    }

    private void register() {
        Lease lease = store.grantLease(ttl);
        byte[] value;
        try {
            value = JSON.writeValueAsBytes(self);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        boolean put = store.commit(Txn.begin().when(Compare.absent(key())).then(Op.put(key(), value, lease.id()))).succeeded();
        if (!put) {
            store.revokeLease(lease.id());
            throw new IllegalStateException("a live controller node already has the id " + self.id() + "; give this one another --node-id");
        }
        leaseId = lease.id();
    }

    private void follow() {
        ConfigStore.Range range = store.range(PREFIX);
        Map<String, Member> members = new TreeMap<>();
        for (KeyValue entry : range.entries()) {
            decode(entry).ifPresent(m -> members.put(m.id(), m));
        }
        live = Map.copyOf(members);
        watch = store.watch(PREFIX, range.revision() + 1, new WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                Map<String, Member> next = new TreeMap<>(live);
                for (Event event : events) {
                    String id = event.key().substring(PREFIX.length());
                    if (event.type() == Event.Type.DELETE) {
                        next.remove(id);
                    } else {
                        decode(event.entry()).ifPresent(m -> next.put(m.id(), m));
                    }
                }
                if (!next.equals(live)) {
                    live = Map.copyOf(next);
                    LOG.info("node {}: live nodes now {}", self.id(), next.keySet());
                    listeners.forEach(listener -> listener.accept(live));
                }
            }

            @Override
            public void onError(RuntimeException error) {
                LOG.error("node {}: the membership watch ended: {}", self.id(), error.toString());
            }
        });
    }

    private static Optional<Member> decode(KeyValue entry) {
        try {
            return Optional.of(JSON.readValue(entry.value(), Member.class));
        } catch (IOException e) {
            LOG.warn("ignoring unreadable node record {}: {}", entry.key(), e.getMessage());
            return Optional.empty();
        }
    }

    private void keepAlive() {
        long period = Math.max(100, ttl.toMillis() / 3);
        while (running) {
            try {
                Thread.sleep(period);
                store.keepAlive(leaseId);
            } catch (InterruptedException e) {
                return;
            } catch (LeaseNotFoundException e) {
                LOG.warn("node {}: its lease was gone; joining again", self.id());
                try {
                    register();
                } catch (RuntimeException again) {
                    LOG.error("node {}: cannot join again: {}", self.id(), again.toString());
                }
            } catch (RuntimeException e) {
                LOG.warn("node {}: renewing its lease failed: {}", self.id(), e.toString());
            }
        }
    }

    /** Stops renewing without revoking: what the others see when this node dies. For tests. */
    void stopRenewing() {
        running = false;
        keeper.interrupt();
    }

    /** Leaves: the lease is revoked, so the other nodes see this one go at once. */
    @Override
    public void close() {
        stopRenewing();
        try {
            store.revokeLease(leaseId);
        } catch (RuntimeException e) {
            LOG.warn("node {}: revoking its lease failed ({}); it expires within {}", self.id(), e.toString(), ttl);
        }
        if (watch != null) {
            watch.close();
        }
    }
}
