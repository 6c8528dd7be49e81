/*
 * The controller's end of the agent channel: what each connected agent is sent, and which version each
 * host has applied.
 *
 * What a host holds. A DesiredStateSource says what a host should hold now (HostState: its own VMs and
 * the routes of every network with a VM on it). For each connected agent the publisher remembers what
 * it sent on that agent's stream (AgentSession.sent). An update is always the difference between what
 * was sent and what the host should hold now, so updates never depend on one another beyond the
 * stream's order: a lost stream loses nothing, because the next stream starts with a full snapshot.
 *
 * Publishing. The controller calls publish(version, hosts) after a change at config-store revision
 * `version` has reached the source, naming every host whose state it may have changed. For each named
 * host with a connected agent, the publisher asks the source for the host's state, diffs it with what
 * was sent and, if anything differs, sends the difference tagged `version`. Publishing is serialised by
 * one lock, which also covers connecting agents, so a snapshot and the deltas after it are computed in
 * stream order. The source may already hold changes of later revisions than the one being published;
 * they simply travel early, under the earlier version, and the later publish finds nothing left to send.
 *
 * Slow agents. Sending never blocks: gRPC buffers what it is given. To keep that buffer small, a host
 * whose stream is not ready (its HTTP/2 window is full) is not sent anything; it is marked pending and,
 * when gRPC reports the stream ready again, one delta carries everything that changed meanwhile
 * (coalescing). Diffs against identical maps cost nothing: when a source gives many hosts the same
 * routes map (all hosts of one network), the diff of a routes map and its protobuf form are computed
 * once per publish and shared by every host that had the same old and new maps.
 *
 * Applied versions. An agent acknowledges each update's version after applying it. Per host the
 * publisher keeps
 *   lastChanged: the last version at which the host's state changed (or may have: a change for a host
 *                that is disconnected or pending counts as a change, since it was not diffed), and
 *   applied:     the highest version the host acknowledged (or said it holds, in its Hello).
 * A host has applied version v when applied >= min(v, lastChanged): changes after v are not waited
 * for, and a publish that changed nothing for the host does not make it owe an acknowledgement. The
 * rule needs every change to be followed by an update the agent will acknowledge: when pending
 * changes turn out to cancel out, an empty update still carries the version.
 * A host the publisher has not seen since it started (a new controller) is assumed to have changed at
 * the version the publisher started with; it counts as applied once its agent says it holds that.
 * awaitApplied waits, on a condition signalled by every acknowledgement, until each host it waits for
 * has applied the version or the time is up; it answers with the hosts still pending.
 *
 * Connections. An agent's Hello (its host name already checked against its certificate) attaches its
 * stream: a stream the host already had is ended with ABORTED, and the new one gets the host's full
 * state at the current version. The agent's Hello also says which version it holds; that replaces the
 * host's applied version (a restarted agent holds nothing, whatever its host acknowledged before).
 * When a stream ends, the host keeps its applied version: its agent keeps what it had.
 */
package dev.vnet.controller.channel;

import dev.vnet.controller.channel.proto.StateUpdate;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sends each connected agent its host's state (a full snapshot on connect, then deltas as the
 * controller publishes changes) and tracks which version each host has applied. Thread-safe; see the
 * top of this file for how it works.
 */
public final class HostStatePublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostStatePublisher.class);

    private final DesiredStateSource source;
    private final long initialVersion;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a host acknowledges a version or the publisher closes. */
    private final Condition acknowledged = lock.newCondition();
    private final Map<String, HostRecord> hosts = new HashMap<>();
    private long publishedVersion;
    private boolean closed;

    /** What the publisher knows of one host, connected or not. Guarded by the lock. */
    private static final class HostRecord {
        final String host;
        AgentSession session;
        long lastChanged;
        long applied;

        HostRecord(String host, long lastChanged) {
            this.host = host;
            this.lastChanged = lastChanged;
        }
    }

    /**
     * @param initialVersion the version the source's state is at now (the config-store revision the
     *                       controller started from); the first snapshots carry it
     */
    public HostStatePublisher(DesiredStateSource source, long initialVersion) {
        if (initialVersion < 0) {
            throw new IllegalArgumentException("versions start at 0; got " + initialVersion);
        }
        this.source = source;
        this.initialVersion = initialVersion;
        this.publishedVersion = initialVersion;
    }

    /**
     * Sends every connected host of {@code affectedHosts} what changed for it, tagged {@code version}.
     * Call it after the change is visible in the source. Never waits for agents.
     *
     * @param version no lower than the last one published
     * @throws IllegalArgumentException if {@code version} goes back
     */
    public void publish(long version, Set<String> affectedHosts) {
        lock.lock();
        try {
            if (version < publishedVersion) {
                throw new IllegalArgumentException("version " + version + " is older than the published version " + publishedVersion);
            }
            publishedVersion = version;
            RoutesDeltas routesDeltas = new RoutesDeltas();
            for (String host : affectedHosts) {
                HostRecord record = hosts.computeIfAbsent(host, name -> new HostRecord(name, version));
                AgentSession session = record.session;
                if (session != null && session.ready()) {
                    sendChanges(record, session, routesDeltas);
                } else {
                    // Not diffed now, so assume it changed: the host owes an acknowledgement of this version.
                    record.lastChanged = version;
                    if (session != null) {
                        session.pending = true;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The last version given to {@link #publish} (or the initial version). */
    public long publishedVersion() {
        lock.lock();
        try {
            return publishedVersion;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every host of {@code hosts} has applied {@code version} (see the top of this file for
     * what that means for a host whose state did not change), or until {@code timeout} has passed.
     * Never throws on timeout: the answer names the hosts still pending, disconnected ones included.
     */
    public SyncStatus awaitApplied(long version, Set<String> hosts, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            List<String> pending = new ArrayList<>(new TreeSet<>(hosts));
            pending.removeIf(host -> hasApplied(host, version));
            while (!pending.isEmpty() && !closed) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    break;
                }
                acknowledged.awaitNanos(remaining);
                pending.removeIf(host -> hasApplied(host, version));
            }
            return new SyncStatus(pending.isEmpty(), pending);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every host the publisher knows (connected now or before, or named in a publish) has
     * applied {@code version}: what `--wait` of an API call waits for, with the version the call's
     * change was published at.
     */
    public SyncStatus awaitApplied(long version, Duration timeout) throws InterruptedException {
        Set<String> known;
        lock.lock();
        try {
            known = Set.copyOf(hosts.keySet());
        } finally {
            lock.unlock();
        }
        return awaitApplied(version, known, timeout);
    }

    /** The hosts whose state changed (or may have) after {@code version}. */
    public Set<String> hostsChangedSince(long version) {
        lock.lock();
        try {
            Set<String> changed = new TreeSet<>();
            hosts.values().stream().filter(record -> record.lastChanged > version).forEach(record -> changed.add(record.host));
            return changed;
        } finally {
            lock.unlock();
        }
    }

    /** The hosts with an agent connected now, sorted. */
    public Set<String> connectedHosts() {
        lock.lock();
        try {
            Set<String> connected = new TreeSet<>();
            hosts.values().stream().filter(record -> record.session != null).forEach(record -> connected.add(record.host));
            return connected;
        } finally {
            lock.unlock();
        }
    }

    /** Per known host (sorted), the highest version its agent acknowledged or said it holds. */
    public Map<String, Long> appliedVersions() {
        lock.lock();
        try {
            Map<String, Long> applied = new TreeMap<>();
            hosts.values().forEach(record -> applied.put(record.host, record.applied));
            return applied;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Forgets a host that no longer exists: ends its agent's stream (NOT_FOUND) and stops waiting for it.
     * Publishing its name again brings it back.
     */
    /**
     * Ends the stream of each connected host that {@code lost} says this node no longer owns, telling its
     * agent where to go ({@code ownerOf}); the host stays known, so waiting for it still works.
     */
    public void endStreamsOfHostsNotOwned(java.util.function.Predicate<String> lost,
                                          java.util.function.Function<String, java.util.Optional<String>> ownerOf) {
        lock.lock();
        try {
            for (HostRecord record : hosts.values()) {
                if (record.session != null && lost.test(record.host)) {
                    record.session.end(AgentChannelService.ownedElsewhere(record.host, ownerOf.apply(record.host)));
                    record.session = null;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    public void forgetHost(String host) {
        lock.lock();
        try {
            HostRecord record = hosts.remove(host);
            if (record != null && record.session != null) {
                record.session.end(Status.NOT_FOUND.withDescription("host " + host + " was removed from the controller"));
            }
            acknowledged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Ends every agent's stream (UNAVAILABLE: they reconnect to the next controller) and refuses new ones. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (HostRecord record : hosts.values()) {
                if (record.session != null) {
                    record.session.end(Status.UNAVAILABLE.withDescription("the controller is shutting down"));
                    record.session = null;
                }
            }
            acknowledged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- streams (AgentChannelService)

    /**
     * Makes {@code session} its host's stream and sends it the full snapshot.
     *
     * @param appliedVersion the version the agent says it holds
     */
    void attach(AgentSession session, long appliedVersion) {
        lock.lock();
        try {
            if (closed) {
                session.end(Status.UNAVAILABLE.withDescription("the controller is shutting down"));
                return;
            }
            HostRecord record = hosts.computeIfAbsent(session.host, name -> new HostRecord(name, initialVersion));
            if (record.session != null) {
                log.info("agent of {} connected again; ending its previous stream", session.host);
                record.session.end(Status.ABORTED.withDescription("replaced by a newer connection of host " + session.host));
            }
            record.session = session;
            record.applied = Math.min(appliedVersion, publishedVersion);
            HostState state = source.desired(session.host);
            session.send(ChannelMessages.fullUpdate(publishedVersion, state), state);
            log.debug("agent {} of {} connected holding v{}; sent {} at v{}", session.agentVersion, session.host, appliedVersion, state, publishedVersion);
        } finally {
            lock.unlock();
        }
    }

    /** The agent of {@code session} applied {@code version}. */
    void acknowledge(AgentSession session, long version) {
        lock.lock();
        try {
            HostRecord record = hosts.get(session.host);
            if (record == null || record.session != session) {
                return; // a replaced or forgotten stream: its agent no longer speaks for the host
            }
            if (version > session.sentVersion) {
                log.warn("agent of {} acknowledged v{}, but was sent up to v{}; ending its stream", session.host, version, session.sentVersion);
                session.end(Status.INVALID_ARGUMENT.withDescription("acknowledged version " + version + " was never sent (last: "
                        + session.sentVersion + ")"));
                record.session = null;
                return;
            }
            if (version > record.applied) {
                record.applied = version;
                acknowledged.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The stream of {@code session} has ended (the agent left, or the call failed or was cancelled). */
    void detach(AgentSession session) {
        lock.lock();
        try {
            session.ended = true;
            HostRecord record = hosts.get(session.host);
            if (record != null && record.session == session) {
                record.session = null;
                log.debug("agent of {} disconnected at applied v{}", session.host, record.applied);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends {@code session}'s stream with {@code status} and detaches it. */
    void end(AgentSession session, Status status) {
        lock.lock();
        try {
            session.end(status);
            detach(session);
        } finally {
            lock.unlock();
        }
    }

    /** The stream of {@code session} can take more: send what was held back for it. */
    void ready(AgentSession session) {
        lock.lock();
        try {
            HostRecord record = hosts.get(session.host);
            if (record != null && record.session == session && session.pending && session.ready()) {
                sendChanges(record, session, new RoutesDeltas());
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- diffs

    /**
     * Sends the difference between what the host should hold and what was sent, if there is one or if
     * the agent was not yet sent a version that covers the host's last change.
     */
    private void sendChanges(HostRecord record, AgentSession session, RoutesDeltas routesDeltas) {
        HostState desired = source.desired(record.host);
        MapDiff<VmAttachment> attachments = MapDiff.between(session.sent.attachmentsByVmId(), desired.attachmentsByVmId());
        RoutesDelta routes = routesDeltas.between(session.sent.routes(), desired.routes());
        boolean changed = !attachments.isEmpty() || !routes.isEmpty();
        if (!changed && session.sentVersion >= record.lastChanged) {
            session.pending = false;
            return;
        }
        StateUpdate.Builder update = StateUpdate.newBuilder().setVersion(publishedVersion).setFull(false);
        ChannelMessages.addAttachmentChanges(update, attachments);
        update.addAllUpsertedRoutes(routes.upserted).addAllRemovedRoutes(routes.removed);
        session.send(update.build(), desired);
        if (changed) {
            record.lastChanged = Math.max(record.lastChanged, publishedVersion);
        }
    }

    /** A routes diff in protobuf form, ready to be added to an update. */
    private record RoutesDelta(List<dev.vnet.controller.channel.proto.Route> upserted,
                               List<dev.vnet.controller.channel.proto.RouteKey> removed) {
        static final RoutesDelta NONE = new RoutesDelta(List.of(), List.of());

        boolean isEmpty() {
            return upserted.isEmpty() && removed.isEmpty();
        }
    }

    /**
     * The routes deltas of one publish, by the identity of the old and new maps: hosts that share their
     * network's routes map share the diff and its protobuf form.
     */
    private static final class RoutesDeltas {
        private final Map<MapPair, RoutesDelta> byMaps = new HashMap<>();

        RoutesDelta between(Map<RouteKey, Route> from, Map<RouteKey, Route> to) {
            if (from == to) {
                return RoutesDelta.NONE;
            }
            return byMaps.computeIfAbsent(new MapPair(from, to), pair -> {
                MapDiff<Route> diff = MapDiff.between(from, to);
                if (diff.isEmpty()) {
                    return RoutesDelta.NONE;
                }
                List<dev.vnet.controller.channel.proto.Route> upserted = new ArrayList<>(diff.added().size() + diff.changed().size());
                diff.added().forEach(route -> upserted.add(ChannelMessages.toMessage(route)));
                diff.changed().forEach(route -> upserted.add(ChannelMessages.toMessage(route)));
                List<dev.vnet.controller.channel.proto.RouteKey> removed = new ArrayList<>(diff.removed().size());
                diff.removed().forEach(route -> removed.add(ChannelMessages.toMessage(route.key())));
                return new RoutesDelta(upserted, removed);
            });
        }
    }

    /** Two maps compared by identity, not content (content equality would cost as much as the diff). */
    private record MapPair(Map<?, ?> from, Map<?, ?> to) {
        @Override
        public boolean equals(Object other) {
            return other instanceof MapPair that && from == that.from && to == that.to;
        }

        @Override
        public int hashCode() {
            return 31 * System.identityHashCode(from) + System.identityHashCode(to);
        }
    }

    private boolean hasApplied(String host, long version) {
        HostRecord record = hosts.get(host);
        long lastChanged = record == null ? initialVersion : record.lastChanged;
        long applied = record == null ? 0 : record.applied;
        return applied >= Math.min(version, lastChanged);
    }
}
