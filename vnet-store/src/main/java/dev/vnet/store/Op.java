package dev.vnet.store;

import java.util.Objects;

/** One operation of a {@link Txn}. */
public sealed interface Op {
    /** Puts a value; with a lease (non-zero) the key is deleted when the lease ends. */
    record Put(String key, byte[] value, long lease) implements Op {
        public Put {
            checkKey(key);
            Objects.requireNonNull(value, () -> "value of " + key);
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }
    }

    /** Deletes one key. */
    record Delete(String key) implements Op {
        public Delete {
            checkKey(key);
        }
    }

    /** Deletes every key starting with a non-empty prefix. */
    record DeletePrefix(String prefix) implements Op {
        public DeletePrefix {
            checkKey(prefix);
        }
    }

    /** Reads one key at the transaction's revision. */
    record Get(String key) implements Op {
        public Get {
            checkKey(key);
        }
    }

    static Op put(String key, byte[] value) {
        return new Put(key, value, 0);
    }

    static Op put(String key, byte[] value, long lease) {
        return new Put(key, value, lease);
    }

    static Op delete(String key) {
        return new Delete(key);
    }

    static Op deletePrefix(String prefix) {
        return new DeletePrefix(prefix);
    }

    static Op get(String key) {
        return new Get(key);
    }

    /** Whether this operation writes. */
    default boolean writes() {
        return !(this instanceof Get);
    }

    private static void checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a store key must be a non-empty string");
        }
    }
}
