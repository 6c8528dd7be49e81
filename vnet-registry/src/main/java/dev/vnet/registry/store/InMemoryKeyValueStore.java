package dev.vnet.registry.store;

import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/** A store that lives and dies with the process: for tests and throw-away runs. */
public final class InMemoryKeyValueStore implements KeyValueStore {
    private final TreeMap<String, byte[]> entries = new TreeMap<>();

    @Override
    public synchronized Optional<byte[]> get(String key) {
        return Optional.ofNullable(entries.get(checkKey(key))).map(byte[]::clone);
    }

    @Override
    public synchronized void put(String key, byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("value of " + key + " is null");
        }
        entries.put(checkKey(key), value.clone());
    }

    @Override
    public synchronized boolean delete(String key) {
        return entries.remove(checkKey(key)) != null;
    }

    @Override
    public synchronized SortedMap<String, byte[]> scan(String prefix) {
        TreeMap<String, byte[]> result = new TreeMap<>();
        entries.tailMap(prefix, true).entrySet().stream()
                .takeWhile(e -> e.getKey().startsWith(prefix))
                .forEach(e -> result.put(e.getKey(), e.getValue().clone()));
        return Collections.unmodifiableSortedMap(result);
    }

    @Override
    public void close() {
    }

    static String checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a store key must be a non-empty string");
        }
        return key;
    }
}
