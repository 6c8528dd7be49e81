package dev.vnet.store;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The configuration store: keys to opaque values, with revisions, compare-and-set transactions,
 * watches that resume from a revision, and leases for liveness. The controller, the registry and
 * (later) the BGP nodes keep their state here.
 *
 * <p>Two engines implement it: {@link EmbeddedConfigStore} (one machine, one directory, the default)
 * and {@link EtcdConfigStore} (a cluster); {@link InMemoryConfigStore} serves tests. One contract test
 * suite runs against all of them, so the semantics below are etcd's, which is the stricter of the two:
 * <ul>
 *   <li>Every transaction that writes gets the next store revision; all its writes carry it as their
 *   {@link KeyValue#modRevision()}. Reads and transactions that write nothing do not move it.</li>
 *   <li>A write that returned is durable (it survives {@code kill -9} of the store's process; on etcd,
 *   the loss of a minority of members) and every later read sees it.</li>
 *   <li>A watch delivers every change at or after its start revision, in revision order, each exactly
 *   once, until closed. Starting below what the store still remembers fails with
 *   {@link CompactedException}; the watcher must re-read and watch from the revision of that read.</li>
 *   <li>A key put with a lease is deleted when the lease expires or is revoked; the delete is an
 *   ordinary change that watchers see.</li>
 * </ul>
 * Keys are non-empty strings (UTF-8); values are byte arrays, copied in and out. All methods are
 * thread-safe.
 */
public interface ConfigStore extends AutoCloseable {
    /** The revision of the last write; 0 for a store that never had one. */
    long revision();

    Optional<KeyValue> get(String key);

    /** Every entry whose key starts with {@code prefix} (empty: all), in key order, read at one revision. */
    Range range(String prefix);

    /**
     * Runs a transaction atomically: if every comparison holds, its success operations, else its failure
     * operations.
     */
    TxnResult commit(Txn txn);

    /**
     * Watches keys starting with {@code prefix} from revision {@code fromRevision} (inclusive); 0 means
     * from the next write on. Events are delivered on a thread of the store's, one batch at a time.
     */
    Watch watch(String prefix, long fromRevision, WatchListener listener);

    /** Grants a lease that expires {@code ttl} after its grant or last {@link #keepAlive}. */
    Lease grantLease(Duration ttl);

    /**
     * Restarts the lease's time to live.
     *
     * @throws LeaseNotFoundException if it expired or was revoked
     */
    void keepAlive(long leaseId);

    /** Revokes the lease and deletes its keys; revoking an unknown lease does nothing. */
    void revokeLease(long leaseId);

    @Override
    void close();

    // ---- conveniences, all in terms of commit ----

    /** @return the revision of the write */
    default long put(String key, byte[] value) {
        return commit(Txn.begin().then(Op.put(key, value))).revision();
    }

    /** Puts a key that disappears with the lease. @return the revision of the write */
    default long put(String key, byte[] value, long leaseId) {
        return commit(Txn.begin().then(Op.put(key, value, leaseId))).revision();
    }

    /** @return whether the key existed */
    default boolean delete(String key) {
        return commit(Txn.begin().then(Op.delete(key))).results().getFirst().deleted() > 0;
    }

    /** Puts the key only if it does not exist. @return whether it was put */
    default boolean putIfAbsent(String key, byte[] value) {
        return commit(Txn.begin().when(Compare.absent(key)).then(Op.put(key, value))).succeeded();
    }

    /**
     * Puts the key only if its last write was at {@code expectedModRevision} (0: only if absent).
     *
     * @return whether it was put
     */
    default boolean compareAndSet(String key, long expectedModRevision, byte[] value) {
        return commit(Txn.begin().when(Compare.modRevision(key, Compare.Result.EQUAL, expectedModRevision))
                .then(Op.put(key, value))).succeeded();
    }

    /** A consistent read of a prefix: its entries and the revision they were read at. */
    record Range(long revision, List<KeyValue> entries) {
        public Range {
            entries = List.copyOf(entries);
        }
    }
}
