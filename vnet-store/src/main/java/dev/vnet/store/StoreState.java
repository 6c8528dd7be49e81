package dev.vnet.store;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The state machine both local engines share: the entries, the revision, leases, and a bounded history
 * of changes for watches. Not thread-safe: the engine holding it serializes every call.
 *
 * <p>Writes happen in two steps so that the embedded engine can log between them: {@link #evaluate}
 * decides what a transaction changes without changing anything (a {@link Commit}), and {@link #apply}
 * makes it so. Replaying the log applies the same commits, so a commit carries its results fully
 * computed (revisions and versions), not the transaction that produced it.
 */
final class StoreState {
    /** A write's effects: the entries it puts, the keys it deletes, the leases it grants and ends. */
    record Commit(long revision, List<KeyValue> puts, List<String> deletes, List<Lease> granted, List<Long> revoked) {
        Commit {
            puts = List.copyOf(puts);
            deletes = List.copyOf(deletes);
            granted = List.copyOf(granted);
            revoked = List.copyOf(revoked);
        }

        boolean changesKeys() {
            return !puts.isEmpty() || !deletes.isEmpty();
        }
    }

    /** A transaction decided: what it changes ({@code null}: nothing) and what it answers. */
    record Evaluated(Commit commit, TxnResult result) {
    }

    static final class LeaseState {
        final Lease lease;
        final Set<String> keys = new HashSet<>();
        long deadlineNanos;

        LeaseState(Lease lease, long nowNanos) {
            this.lease = lease;
            this.deadlineNanos = nowNanos + lease.ttl().toNanos();
        }
    }

    private final TreeMap<String, KeyValue> entries = new TreeMap<>();
    private final Map<Long, LeaseState> leases = new HashMap<>();
    private final ArrayDeque<Event> history = new ArrayDeque<>();
    private final int historyLimit;
    private final List<LocalWatch> watches = new CopyOnWriteArrayList<>();
    private long revision;
    private long compactRevision;
    private long lastLeaseId;

    StoreState(int historyLimit) {
        if (historyLimit < 1) {
            throw new IllegalArgumentException("history must hold at least one change");
        }
        this.historyLimit = historyLimit;
    }

    long revision() {
        return revision;
    }

    long compactRevision() {
        return compactRevision;
    }

    long lastLeaseId() {
        return lastLeaseId;
    }

    Optional<KeyValue> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    ConfigStore.Range range(String prefix) {
        List<KeyValue> found = new ArrayList<>();
        for (KeyValue entry : entries.tailMap(prefix, true).values()) {
            if (!entry.key().startsWith(prefix)) {
                break;
            }
            found.add(entry);
        }
        return new ConfigStore.Range(revision, found);
    }

    Iterable<KeyValue> entries() {
        return entries.values();
    }

    Iterable<LeaseState> leases() {
        return leases.values();
    }

    Evaluated evaluate(Txn txn) {
        boolean succeeded = true;
        for (Compare compare : txn.compares()) {
            if (!compare.holds(entries.get(compare.key()))) {
                succeeded = false;
                break;
            }
        }
        List<Op> ops = succeeded ? txn.success() : txn.failure();
        boolean writes = ops.stream().anyMatch(Op::writes);
        long next = writes ? revision + 1 : revision;
        Map<String, KeyValue> written = new HashMap<>(); // key -> new entry, or null once deleted here
        List<TxnResult.OpResult> results = new ArrayList<>(ops.size());
        Set<String> touched = new HashSet<>();
        for (Op op : ops) {
            switch (op) {
                case Op.Get get -> {
                    KeyValue current = written.containsKey(get.key()) ? written.get(get.key()) : entries.get(get.key());
                    results.add(new TxnResult.OpResult(Optional.ofNullable(current), 0));
                }
                case Op.Put put -> {
                    touchOnce(touched, put.key());
                    if (put.lease() != 0 && !leases.containsKey(put.lease())) {
                        throw new LeaseNotFoundException(put.lease());
                    }
                    KeyValue current = entries.get(put.key());
                    KeyValue entry = current == null
                            ? new KeyValue(put.key(), put.value(), next, next, 1, put.lease())
                            : new KeyValue(put.key(), put.value(), current.createRevision(), next, current.version() + 1,
                            put.lease());
                    written.put(put.key(), entry);
                    results.add(TxnResult.OpResult.NONE);
                }
                case Op.Delete delete -> {
                    touchOnce(touched, delete.key());
                    boolean exists = entries.containsKey(delete.key());
                    if (exists) {
                        written.put(delete.key(), null);
                    }
                    results.add(new TxnResult.OpResult(Optional.empty(), exists ? 1 : 0));
                }
                case Op.DeletePrefix deletePrefix -> {
                    long deleted = 0;
                    for (KeyValue entry : range(deletePrefix.prefix()).entries()) {
                        touchOnce(touched, entry.key());
                        written.put(entry.key(), null);
                        deleted++;
                    }
                    results.add(new TxnResult.OpResult(Optional.empty(), deleted));
                }
            }
        }
        List<KeyValue> puts = new ArrayList<>();
        List<String> deletes = new ArrayList<>();
        written.forEach((key, entry) -> {
            if (entry != null) {
                puts.add(entry);
            } else {
                deletes.add(key);
            }
        });
        puts.sort((a, b) -> a.key().compareTo(b.key()));
        deletes.sort(String::compareTo);
        Commit commit = puts.isEmpty() && deletes.isEmpty()
                ? null : new Commit(next, puts, deletes, List.of(), List.of());
        return new Evaluated(commit, new TxnResult(succeeded, commit != null ? next : revision, results));
    }

    private static void touchOnce(Set<String> touched, String key) {
        if (!touched.add(key)) {
            throw new IllegalArgumentException("a transaction branch writes " + key + " more than once");
        }
    }

    Commit grant(Duration ttl) {
        if (ttl.isNegative() || ttl.isZero() || ttl.toSeconds() > 365L * 24 * 3600) {
            throw new IllegalArgumentException("a lease's time to live must be positive and at most a year, not " + ttl);
        }
        return new Commit(revision, List.of(), List.of(), List.of(new Lease(lastLeaseId + 1, ttl)), List.of());
    }

    /** The commit that ends a lease and deletes its keys, or null if there is no such lease. */
    Commit revoke(long leaseId) {
        LeaseState state = leases.get(leaseId);
        if (state == null) {
            return null;
        }
        List<String> keys = state.keys.stream().sorted().toList();
        return new Commit(keys.isEmpty() ? revision : revision + 1, List.of(), keys, List.of(), List.of(leaseId));
    }

    void keepAlive(long leaseId, long nowNanos) {
        LeaseState state = leases.get(leaseId);
        if (state == null) {
            throw new LeaseNotFoundException(leaseId);
        }
        state.deadlineNanos = nowNanos + state.lease.ttl().toNanos();
    }

    /** Leases whose deadline has passed. */
    List<Long> expired(long nowNanos) {
        List<Long> expired = new ArrayList<>();
        for (LeaseState state : leases.values()) {
            if (nowNanos - state.deadlineNanos >= 0) {
                expired.add(state.lease.id());
            }
        }
        return expired;
    }

    /** Makes a commit so; {@code nowNanos} starts the time to live of leases it grants. */
    void apply(Commit commit, long nowNanos) {
        List<Event> events = new ArrayList<>(commit.puts().size() + commit.deletes().size());
        for (KeyValue entry : commit.puts()) {
            KeyValue previous = entries.put(entry.key(), entry);
            if (previous != null && previous.lease() != 0 && previous.lease() != entry.lease()) {
                LeaseState old = leases.get(previous.lease());
                if (old != null) {
                    old.keys.remove(entry.key());
                }
            }
            if (entry.lease() != 0) {
                LeaseState owner = leases.get(entry.lease());
                if (owner != null) {
                    owner.keys.add(entry.key());
                }
            }
            events.add(new Event(Event.Type.PUT, entry));
        }
        for (String key : commit.deletes()) {
            KeyValue previous = entries.remove(key);
            if (previous != null && previous.lease() != 0) {
                LeaseState owner = leases.get(previous.lease());
                if (owner != null) {
                    owner.keys.remove(key);
                }
            }
            events.add(new Event(Event.Type.DELETE, new KeyValue(key, new byte[0], 0, commit.revision(), 0, 0)));
        }
        for (Lease lease : commit.granted()) {
            leases.put(lease.id(), new LeaseState(lease, nowNanos));
            lastLeaseId = Math.max(lastLeaseId, lease.id());
        }
        for (long id : commit.revoked()) {
            leases.remove(id);
        }
        if (commit.revision() < revision) {
            throw new IllegalStateException("commit at revision " + commit.revision() + " after " + revision);
        }
        revision = commit.revision();
        if (!events.isEmpty()) {
            remember(events);
            for (LocalWatch watch : watches) {
                watch.offer(events);
            }
        }
    }

    /** Restores one entry from a snapshot (no event: a snapshot is state, not history). */
    void restore(KeyValue entry) {
        entries.put(entry.key(), entry);
        if (entry.lease() != 0) {
            LeaseState owner = leases.get(entry.lease());
            if (owner != null) {
                owner.keys.add(entry.key());
            }
        }
    }

    /** Restores the snapshot's revision and lease counter; the history starts after it. */
    void restoreRevision(long snapshotRevision, long snapshotLastLeaseId) {
        revision = snapshotRevision;
        compactRevision = snapshotRevision;
        lastLeaseId = Math.max(lastLeaseId, snapshotLastLeaseId);
        history.clear();
    }

    void restoreLease(Lease lease, long nowNanos) {
        leases.put(lease.id(), new LeaseState(lease, nowNanos));
        lastLeaseId = Math.max(lastLeaseId, lease.id());
    }

    private void remember(List<Event> events) {
        history.addAll(events);
        while (history.size() > historyLimit) {
            long dropped = history.peekFirst().revision();
            while (!history.isEmpty() && history.peekFirst().revision() == dropped) {
                history.removeFirst();
            }
            compactRevision = dropped;
        }
    }

    /** Registers a watch and queues the remembered changes it asked for; fails it if they are gone. */
    void addWatch(LocalWatch watch, long fromRevision) {
        if (fromRevision > 0 && fromRevision <= compactRevision) {
            watch.fail(new CompactedException(fromRevision, compactRevision));
            return;
        }
        if (fromRevision > 0) {
            List<Event> past = new ArrayList<>();
            for (Event event : history) {
                if (event.revision() >= fromRevision) {
                    past.add(event);
                }
            }
            if (!past.isEmpty()) {
                watch.offer(past);
            }
        }
        watches.add(watch);
    }

    void removeWatch(LocalWatch watch) {
        watches.remove(watch);
    }

    void closeWatches() {
        for (LocalWatch watch : watches) {
            watch.close();
        }
        watches.clear();
    }
}
