package dev.vnet.registry.store;

import java.util.Optional;
import java.util.SortedMap;

/**
 * Where the registry keeps its state: keys to opaque values. Behind this interface so that the
 * embedded engine (one machine, a directory) and a clustered engine (etcd, a later issue) are
 * interchangeable; one contract test suite runs against every engine.
 *
 * <p>Contract: a {@link #put} or {@link #delete} that returned is durable (it survives {@code kill -9}
 * of the process); reads see every write that returned before them; all methods are thread-safe.
 * Keys are non-empty strings; values are non-null byte arrays (copied in and out).
 */
public interface KeyValueStore extends AutoCloseable {
    Optional<byte[]> get(String key);

    void put(String key, byte[] value);

    /** @return whether the key existed */
    boolean delete(String key);

    /** Every entry whose key starts with {@code prefix} (empty: all), in key order. */
    SortedMap<String, byte[]> scan(String prefix);

    @Override
    void close();
}
