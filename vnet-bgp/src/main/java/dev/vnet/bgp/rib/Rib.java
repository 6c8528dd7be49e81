package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.Update;
import dev.vnet.bgp.wire.VpnNlriList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The routing side of the speaker: one Adj-RIB-In and one Adj-RIB-Out per Established session around
 * the {@link LocRib}, and the receive-side rules that decide what a peer's UPDATE does to them. Runs on
 * one thread (the speaker's event loop); {@code executor} must be that thread's, it is used to write
 * Adj-RIB-Outs once the current batch of changes is in.
 *
 * <p>Receiving routes from a peer (after the decoder's RFC 7606 checks):
 * <ul>
 *   <li>treat-as-withdraw UPDATEs remove their routes from the peer's Adj-RIB-In;</li>
 *   <li>external peers: a path that does not start with the peer's AS is treated as withdrawn (RFC 4271
 *       §6.3 allows the check, RFC 7606 §7.2 says how to handle it); one holding our own AS is a loop
 *       and treated as withdrawn (§9.1.2); LOCAL_PREF is dropped (RFC 7606 §7.5);</li>
 *   <li>internal peers: a route carrying our identifier as ORIGINATOR_ID, or our cluster id in its
 *       CLUSTER_LIST, is a reflection loop and treated as withdrawn (RFC 4456 §8);</li>
 *   <li>accepted routes go into the Adj-RIB-In, and into the Loc-RIB if the {@link ImportFilter} takes them.</li>
 * </ul>
 * A session that ends takes its Adj-RIB-In out of the Loc-RIB.
 */
public final class Rib {
    private static final Logger LOG = LoggerFactory.getLogger(Rib.class);

    private final long localAs;
    private final int routerId;
    private final int clusterId;
    private final RouteSource local;
    private final LocRib locRib;
    private final ExportPolicy policy;
    private final Executor executor;
    private final LocRibListener listener;
    private final List<PeerRib> peers = new ArrayList<>();
    private ImportFilter importFilter;
    private boolean flushScheduled;

    /** The Adj-RIB-In and Adj-RIB-Out of one session, and its counters. */
    public static final class PeerRib {
        private final PeerRole role;
        private final AdjRibOut out;
        private final Map<VpnPrefix, Path> in = new HashMap<>();
        private PathAttributes lastReceived;
        private PathAttributes lastAccepted;
        private long updatesReceived;
        private long treatedAsWithdraw;
        private boolean endOfRibReceived;

        private PeerRib(PeerRole role, UpdateSink sink) {
            this.role = role;
            this.out = new AdjRibOut(role, sink);
        }

        public PeerRole role() {
            return role;
        }

        /** Routes held in the Adj-RIB-In. */
        public int received() {
            return in.size();
        }

        /** Routes the peer holds from us. */
        public int advertised() {
            return out.size();
        }

        public long updatesReceived() {
            return updatesReceived;
        }

        public long updatesSent() {
            return out.updatesSent();
        }

        /** UPDATEs whose routes were treated as withdrawn (RFC 7606) or refused by a loop or path check. */
        public long treatedAsWithdraw() {
            return treatedAsWithdraw;
        }

        public boolean endOfRibReceived() {
            return endOfRibReceived;
        }
    }

    /**
     * @param listener told of every change of best path (after the Adj-RIB-Outs have been marked)
     */
    public Rib(long localAs, int routerId, int clusterId, ImportFilter importFilter, Executor executor, LocRibListener listener) {
        this.localAs = localAs;
        this.routerId = routerId;
        this.clusterId = clusterId;
        this.local = new RouteSource(RouteSource.Kind.LOCAL, localAs, 0, routerId, false);
        this.importFilter = importFilter;
        this.executor = executor;
        this.listener = listener;
        this.policy = new ExportPolicy(localAs, clusterId);
        this.locRib = new LocRib(this::bestPathChanged);
    }

    public LocRib locRib() {
        return locRib;
    }

    public RouteSource localSource() {
        return local;
    }

    private void bestPathChanged(VpnPrefix prefix, Path previous, Path current) {
        for (PeerRib peer : peers) {
            peer.out.changed(prefix);
        }
        scheduleFlush();
        listener.bestPathChanged(prefix, previous, current);
    }

    /** Originates (or replaces) a route of this speaker. */
    public void originate(VpnPrefix prefix, int labelEntry, PathAttributes attributes) {
        locRib.put(new Path(locRib.canonical(prefix), labelEntry, attributes, local));
    }

    public void withdrawLocal(VpnPrefix prefix) {
        locRib.remove(prefix, local);
    }

    /** A session came up: its Adj-RIB-Out starts with the whole Loc-RIB. */
    public PeerRib peerUp(PeerRole role, UpdateSink sink) {
        PeerRib peer = new PeerRib(role, sink);
        peers.add(peer);
        peer.out.transferTable(locRib.bestPaths());
        scheduleFlush();
        return peer;
    }

    /** A session went down: everything learned over it leaves the Loc-RIB. */
    public void peerDown(PeerRib peer) {
        if (!peers.remove(peer)) {
            return;
        }
        RouteSource source = peer.role.source();
        for (Path path : peer.in.values()) {
            locRib.remove(path.prefix(), source);
        }
        peer.in.clear();
        policy.forget(source);
    }

    /** The peer asked for our routes again (RFC 2918). */
    public void refresh(PeerRib peer) {
        peer.out.transferTable(locRib.bestPaths());
        scheduleFlush();
    }

    /** The peer's session can take more data. */
    public void writable(PeerRib peer) {
        if (peer.out.hasWork()) {
            scheduleFlush();
        }
    }

    /** Replaces the import filter and applies it again to every Adj-RIB-In. */
    public void importFilter(ImportFilter filter) {
        this.importFilter = filter;
        for (PeerRib peer : peers) {
            for (Path path : peer.in.values()) {
                if (filter.accepts(path.prefix(), path.attributes())) {
                    locRib.put(path);
                } else {
                    locRib.remove(path.prefix(), peer.role.source());
                }
            }
        }
    }

    public void update(PeerRib peer, Update update) {
        peer.updatesReceived++;
        RouteSource source = peer.role.source();
        VpnNlriList withdrawn = update.withdrawn();
        for (int i = 0; i < withdrawn.size(); i++) {
            removeFromPeer(peer, new VpnPrefix(withdrawn.rd(i), withdrawn.address(i), withdrawn.prefixLength(i)));
        }
        VpnNlriList reach = update.reach();
        if (!reach.isEmpty()) {
            PathAttributes attributes = update.treatAsWithdraw() ? null : accept(peer, update.attributes());
            if (attributes == null) {
                peer.treatedAsWithdraw++;
                if (update.problem() != null) {
                    LOG.warn("BGP peer {}: {} routes treated as withdrawn: {}", source, reach.size(), update.problem());
                }
            }
            for (int i = 0; i < reach.size(); i++) {
                VpnPrefix prefix = new VpnPrefix(reach.rd(i), reach.address(i), reach.prefixLength(i));
                if (attributes == null) {
                    removeFromPeer(peer, prefix);
                    continue;
                }
                Path held = peer.in.get(prefix);
                VpnPrefix key = held != null ? held.prefix() : locRib.canonical(prefix);
                Path path = new Path(key, reach.labelEntry(i), attributes, source);
                peer.in.put(key, path);
                if (importFilter.accepts(key, attributes)) {
                    locRib.put(path);
                } else if (held != null) {
                    locRib.remove(key, source);
                }
            }
        } else if (update.problem() != null) {
            LOG.debug("BGP peer {}: {}", source, update.problem());
        }
        if (update.isEndOfRib()) {
            peer.endOfRibReceived = true;
        }
    }

    /** The attributes routes from this peer are kept with, or null if they are to be treated as withdrawn. */
    private PathAttributes accept(PeerRib peer, PathAttributes received) {
        if (received == peer.lastReceived) {
            return peer.lastAccepted;
        }
        PathAttributes accepted = check(peer, received);
        peer.lastReceived = received;
        peer.lastAccepted = accepted;
        return accepted;
    }

    private PathAttributes check(PeerRib peer, PathAttributes attributes) {
        RouteSource source = peer.role.source();
        AsPath path = attributes.asPath();
        if (peer.role.external()) {
            if (path == null || path.firstAs() != (int) source.peerAs()) {
                LOG.warn("BGP peer {}: AS_PATH [{}] does not start with the peer's AS {}; routes treated as withdrawn", source, path, source.peerAs());
                return null;
            }
            if (path.contains((int) localAs)) {
                LOG.debug("BGP peer {}: AS_PATH [{}] holds our AS; routes ignored", source, path);
                return null;
            }
            return attributes.localPref() < 0 ? attributes : attributes.toBuilder().localPref(-1).build();
        }
        if (attributes.originatorId() == Integer.toUnsignedLong(routerId)) {
            LOG.debug("BGP peer {}: ORIGINATOR_ID is ours; routes ignored", source);
            return null;
        }
        int[] clusters = attributes.clusterList();
        if (clusters != null) {
            for (int cluster : clusters) {
                if (cluster == clusterId) {
                    LOG.debug("BGP peer {}: CLUSTER_LIST holds our cluster id; routes ignored", source);
                    return null;
                }
            }
        }
        return attributes;
    }

    private void removeFromPeer(PeerRib peer, VpnPrefix prefix) {
        Path held = peer.in.remove(prefix);
        if (held != null) {
            locRib.remove(held.prefix(), peer.role.source());
        }
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            executor.execute(this::flush);
        }
    }

    /** Writes every Adj-RIB-Out as far as its session takes it. */
    public void flush() {
        flushScheduled = false;
        boolean allDone = true;
        for (PeerRib peer : peers) {
            allDone &= peer.out.flush(locRib, policy);
        }
        if (allDone) {
            policy.clearCache();
        }
    }
}
