package dev.vnet.store;

import java.util.Objects;

/**
 * A condition of a {@link Txn} on one key (etcd's Compare). An absent key has create and mod revision
 * 0, version 0, and no value (a value comparison on it fails).
 */
public record Compare(String key, Target target, Result result, long number, byte[] value) {
    public enum Target { VERSION, CREATE_REVISION, MOD_REVISION, VALUE }

    public enum Result { EQUAL, NOT_EQUAL, GREATER, LESS }

    public Compare {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(result, "result");
        value = value == null ? null : value.clone();
        if ((target == Target.VALUE) != (value != null)) {
            throw new IllegalArgumentException("a value comparison needs a value, and only it");
        }
    }

    public static Compare absent(String key) {
        return new Compare(key, Target.VERSION, Result.EQUAL, 0, null);
    }

    public static Compare present(String key) {
        return new Compare(key, Target.VERSION, Result.GREATER, 0, null);
    }

    public static Compare modRevision(String key, Result result, long revision) {
        return new Compare(key, Target.MOD_REVISION, result, revision, null);
    }

    public static Compare version(String key, Result result, long version) {
        return new Compare(key, Target.VERSION, result, version, null);
    }

    public static Compare value(String key, Result result, byte[] value) {
        return new Compare(key, Target.VALUE, result, 0, value);
    }

    @Override
    public byte[] value() {
        return value == null ? null : value.clone();
    }

    /** Evaluates this condition against the key's current entry ({@code null} when absent). */
    public boolean holds(KeyValue current) {
        int order;
        switch (target) {
            case VERSION -> order = Long.compare(current == null ? 0 : current.version(), number);
            case CREATE_REVISION -> order = Long.compare(current == null ? 0 : current.createRevision(), number);
            case MOD_REVISION -> order = Long.compare(current == null ? 0 : current.modRevision(), number);
            case VALUE -> {
                if (current == null) {
                    return false;
                }
                order = java.util.Arrays.compareUnsigned(current.value(), value);
            }
            default -> throw new IllegalStateException(target.toString());
        }
        return switch (result) {
            case EQUAL -> order == 0;
            case NOT_EQUAL -> order != 0;
            case GREATER -> order > 0;
            case LESS -> order < 0;
        };
    }
}
