package dev.vnet.store;

import java.util.List;
import java.util.Optional;

/**
 * What a transaction did.
 *
 * @param succeeded whether its comparisons held (so the success branch ran)
 * @param revision  the store revision after it: its own if it wrote, else the one it read at
 * @param results   one per operation of the branch that ran, in order
 */
public record TxnResult(boolean succeeded, long revision, List<OpResult> results) {
    public TxnResult {
        results = List.copyOf(results);
    }

    /**
     * The outcome of one operation.
     *
     * @param entry   for a get, the entry if present
     * @param deleted for a delete, how many keys it deleted
     */
    public record OpResult(Optional<KeyValue> entry, long deleted) {
        public static final OpResult NONE = new OpResult(Optional.empty(), 0);
    }
}
