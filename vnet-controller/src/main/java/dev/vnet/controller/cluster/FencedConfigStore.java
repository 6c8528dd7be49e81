/*
 * The writer's view of the config store in a cluster: every write is fenced by the writer key.
 *
 * A node that won the writer election knows the modification revision of the writer key it put. Each
 * of its writes is sent as one transaction that also compares that key's revision with the one it won
 * with; if another node has become the writer in between (this one was paused past its lease, or cut
 * off), the key has changed, the comparison fails, and nothing is written: the store itself refuses the
 * stale writer, however late its write arrives. Without a fence (not the writer) every write is
 * refused. Reads, watches and leases pass through.
 *
 * Transactions with an else-branch are refused: a failed fence would run the else-branch, and nothing
 * in the controller writes with one.
 */
package dev.vnet.controller.cluster;

import dev.vnet.store.Compare;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.ForwardingConfigStore;
import dev.vnet.store.KeyValue;
import dev.vnet.store.Op;
import dev.vnet.store.Txn;
import dev.vnet.store.TxnResult;

import java.util.List;
import java.util.Optional;

/** A config store whose writes only the current writer may make; see the top of this file. */
public final class FencedConfigStore extends ForwardingConfigStore {
    /** A write by a node that is not (or no longer) the writer. */
    public static final class NotWriterException extends IllegalStateException {
        public NotWriterException(String message) {
            super(message);
        }
    }

    private final String fenceKey;
    private volatile long fenceRevision;

    public FencedConfigStore(ConfigStore delegate, String fenceKey) {
        super(delegate);
        this.fenceKey = fenceKey;
    }

    /** Writes are allowed while {@code fenceKey} still has modification revision {@code revision}; 0 refuses them all. */
    public void fence(long revision) {
        fenceRevision = revision;
    }

    @Override
    public TxnResult commit(Txn txn) {
        boolean writes = txn.success().stream().anyMatch(op -> !(op instanceof Op.Get));
        if (!writes) {
            return delegate.commit(txn);
        }
        if (!txn.failure().isEmpty()) {
            throw new IllegalArgumentException("a fenced store takes no transaction with an else-branch");
        }
        long revision = fenceRevision;
        if (revision == 0) {
            throw new NotWriterException("this controller node is not the writer; writes go to the writer node");
        }
        Compare[] compares = new Compare[txn.compares().size() + 1];
        compares[0] = Compare.modRevision(fenceKey, Compare.Result.EQUAL, revision);
        for (int i = 0; i < txn.compares().size(); i++) {
            compares[i + 1] = txn.compares().get(i);
        }
        TxnResult result = delegate.commit(Txn.begin().when(compares).then(txn.success().toArray(Op[]::new)).orElse(Op.get(fenceKey)));
        if (result.succeeded()) {
            return result;
        }
        Optional<KeyValue> fence = delegate.get(fenceKey);
        if (fence.isEmpty() || fence.get().modRevision() != revision) {
            fenceRevision = 0;
            throw new NotWriterException("this controller node is no longer the writer (the writer key changed); nothing was written");
        }
        return new TxnResult(false, result.revision(), List.of());
    }

    /** The store is the node's, closed with it, not through this view. */
    @Override
    public void close() {
    }
}
