package dev.vnet.store;

import java.util.ArrayList;
import java.util.List;

/**
 * A transaction: if every comparison holds, the success operations run, else the failure operations;
 * either way atomically, at one revision. Built fluently:
 * {@code Txn.begin().when(Compare.absent(k)).then(Op.put(k, v)).orElse(Op.get(k))}.
 * A key may be written at most once per branch (etcd's rule).
 */
public final class Txn {
    private final List<Compare> compares = new ArrayList<>();
    private final List<Op> success = new ArrayList<>();
    private final List<Op> failure = new ArrayList<>();

    private Txn() {
    }

    public static Txn begin() {
        return new Txn();
    }

    public Txn when(Compare... conditions) {
        compares.addAll(List.of(conditions));
        return this;
    }

    public Txn then(Op... operations) {
        success.addAll(List.of(operations));
        return this;
    }

    public Txn orElse(Op... operations) {
        failure.addAll(List.of(operations));
        return this;
    }

    public List<Compare> compares() {
        return List.copyOf(compares);
    }

    public List<Op> success() {
        return List.copyOf(success);
    }

    public List<Op> failure() {
        return List.copyOf(failure);
    }
}
