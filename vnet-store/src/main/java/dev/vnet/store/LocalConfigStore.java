package dev.vnet.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the in-memory and embedded engines share: one lock around a {@link StoreState}, a
 * {@link #persist} step between deciding a write and applying it, and a virtual thread that ends
 * expired leases.
 *
 * <p>Lease deadlines live in memory only: after a restart every lease gets its whole time to live
 * again, as etcd does after a leader change. An owner that died meanwhile is noticed one TTL later.
 */
abstract class LocalConfigStore implements ConfigStore {
    private static final Logger LOG = LoggerFactory.getLogger(LocalConfigStore.class);
    static final int DEFAULT_HISTORY = 100_000;
    private static final Duration LEASE_CHECK = Duration.ofMillis(100);

    protected final StoreState state;
    private final Thread leaseReaper;
    private volatile boolean closed;

    protected LocalConfigStore(int historyLimit) {
        this.state = new StoreState(historyLimit);
        this.leaseReaper = Thread.ofVirtual().name("lease reaper").unstarted(this::reapLeases);
    }

    /** Starts expiring leases; called by the engine once its state is loaded. */
    protected final void startLeaseReaper() {
        leaseReaper.start();
    }

    /** Makes a commit durable before it is applied; throws if it could not (then nothing happened). */
    protected abstract void persist(StoreState.Commit commit);

    /** Called with the lock held, after a commit was applied (compaction hook). */
    protected void afterApply() {
    }

    protected abstract void closeEngine();

    @Override
    public final synchronized long revision() {
        checkOpen();
        return state.revision();
    }

    @Override
    public final synchronized Optional<KeyValue> get(String key) {
        checkOpen();
        checkKey(key);
        return state.get(key);
    }

    @Override
    public final synchronized Range range(String prefix) {
        checkOpen();
        if (prefix == null) {
            throw new IllegalArgumentException("range prefix is null (the empty prefix means every entry)");
        }
        return state.range(prefix);
    }

    @Override
    public final TxnResult commit(Txn txn) {
        synchronized (this) {
            checkOpen();
            StoreState.Evaluated evaluated = state.evaluate(txn);
            if (evaluated.commit() != null) {
                write(evaluated.commit());
            }
            return evaluated.result();
        }
    }

    @Override
    public final Watch watch(String prefix, long fromRevision, WatchListener listener) {
        if (prefix == null || listener == null || fromRevision < 0) {
            throw new IllegalArgumentException("a watch needs a prefix, a listener and a revision >= 0");
        }
        LocalWatch watch = new LocalWatch(prefix, listener, this::forget);
        synchronized (this) {
            checkOpen();
            state.addWatch(watch, fromRevision);
        }
        watch.start();
        return watch;
    }

    private synchronized void forget(LocalWatch watch) {
        state.removeWatch(watch);
    }

    @Override
    public final synchronized Lease grantLease(Duration ttl) {
        checkOpen();
        StoreState.Commit commit = state.grant(ttl);
        write(commit);
        return commit.granted().getFirst();
    }

    @Override
    public final synchronized void keepAlive(long leaseId) {
        checkOpen();
        state.keepAlive(leaseId, System.nanoTime());
    }

    @Override
    public final synchronized void revokeLease(long leaseId) {
        checkOpen();
        StoreState.Commit commit = state.revoke(leaseId);
        if (commit != null) {
            write(commit);
        }
    }

    private void write(StoreState.Commit commit) {
        persist(commit);
        state.apply(commit, System.nanoTime());
        afterApply();
    }

    private void reapLeases() {
        while (!closed) {
            try {
                Thread.sleep(LEASE_CHECK);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                if (closed) {
                    return;
                }
                List<Long> expired = state.expired(System.nanoTime());
                for (long id : expired) {
                    try {
                        StoreState.Commit commit = state.revoke(id);
                        if (commit != null) {
                            write(commit);
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("expiring lease {} failed; retrying", Long.toHexString(id), e);
                    }
                }
            }
        }
    }

    @Override
    public final void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            state.closeWatches();
            closeEngine();
        }
        leaseReaper.interrupt();
    }

    protected final synchronized boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    static void checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a store key must be a non-empty string");
        }
    }
}
