package dev.vnet.controller.channel;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable map whose changed copies cost the size of the change, not of the map: a state with
 * 10,000 routes that changes by one route a time must not be copied whole each time (an agent gets
 * such a delta per change of its network; so does the controller's copy of each network).
 *
 * <p>A copy shares its base map with the map it was made from and holds only the entries changed since
 * in a small layer on top: a new value, or a tombstone for a key removed from the base. A lookup reads
 * the layer, then the base. Each copy copies the layer, so the layer is kept small: when it would
 * outgrow the square root of the base's size, the copy is flattened into a new base instead. An update
 * of n entries then costs, amortised, about 2·√n map operations (200 for 10,000 routes, against 10,000
 * for a copy of the whole map), and a lookup at most two probes. Two maps on the same base differ only
 * in the keys of their layers, which
 * {@link #changedKeys} gives to {@link MapDiff#between} so that a diff costs no more than the layers.
 *
 * <p>Keys and values must not be null. Equality and hash code are those of any {@link Map}.
 */
public final class LayeredMap<K, V> extends AbstractMap<K, V> {
    private static final int MIN_LAYER = 16;
    private static final Object REMOVED = new Object();
    private static final LayeredMap<?, ?> EMPTY = new LayeredMap<>(Map.of(), Map.of(), 0);

    private final Map<K, V> base;
    /** Key to value, or to {@link #REMOVED} for a key of the base that this map does not hold. */
    private final Map<K, Object> layer;
    private final int size;
    private Set<Entry<K, V>> entries;

    private LayeredMap(Map<K, V> base, Map<K, Object> layer, int size) {
        this.base = base;
        this.layer = layer;
        this.size = size;
    }

    @SuppressWarnings("unchecked")
    public static <K, V> LayeredMap<K, V> empty() {
        return (LayeredMap<K, V>) EMPTY;
    }

    /** {@code map} itself if it is a layered map, else an immutable copy of it. */
    public static <K, V> LayeredMap<K, V> of(Map<K, V> map) {
        if (map instanceof LayeredMap<K, V> layered) {
            return layered;
        }
        return map.isEmpty() ? empty() : new LayeredMap<>(Map.copyOf(map), Map.of(), map.size());
    }

    /** A copy with {@code upserts} put and then {@code removals} removed; this map itself if both are empty. */
    public LayeredMap<K, V> with(Map<K, V> upserts, Collection<K> removals) {
        if (upserts.isEmpty() && removals.isEmpty()) {
            return this;
        }
        Map<K, Object> next = new HashMap<>(layer);
        int nextSize = size;
        for (Entry<K, V> entry : upserts.entrySet()) {
            K key = Objects.requireNonNull(entry.getKey(), "key");
            Object old = next.put(key, Objects.requireNonNull(entry.getValue(), "value"));
            if (old == REMOVED || (old == null && !base.containsKey(key))) {
                nextSize++;
            }
        }
        for (K key : removals) {
            boolean inBase = base.containsKey(key);
            Object old = inBase ? next.put(key, REMOVED) : next.remove(key);
            if (old == null ? inBase : old != REMOVED) {
                nextSize--;
            }
        }
        if (next.size() > Math.max(MIN_LAYER, Math.sqrt(base.size()))) {
            return flatten(next, nextSize);
        }
        return new LayeredMap<>(base, Map.copyOf(next), nextSize);
    }

    @SuppressWarnings("unchecked")
    private LayeredMap<K, V> flatten(Map<K, Object> nextLayer, int nextSize) {
        Map<K, V> flat = new HashMap<>(base);
        nextLayer.forEach((key, value) -> {
            if (value == REMOVED) {
                flat.remove(key);
            } else {
                flat.put(key, (V) value);
            }
        });
        return flat.isEmpty() ? empty() : new LayeredMap<>(Map.copyOf(flat), Map.of(), nextSize);
    }

    /**
     * The keys whose values may differ between {@code a} and {@code b}, when they share a base (null
     * when they do not, and only a full comparison can tell).
     */
    static Set<?> changedKeys(LayeredMap<?, ?> a, LayeredMap<?, ?> b) {
        if (a.base != b.base) {
            return null;
        }
        Set<Object> keys = new java.util.HashSet<>(a.layer.keySet());
        keys.addAll(b.layer.keySet());
        return keys;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        Object value = layer.get(key);
        if (value != null) {
            return value == REMOVED ? null : (V) value;
        }
        return base.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        if (entries == null) {
            entries = new AbstractSet<>() {
                @Override
                public Iterator<Entry<K, V>> iterator() {
                    return new Entries();
                }

                @Override
                public int size() {
                    return size;
                }
            };
        }
        return entries;
    }

    /** The layer's values, then the base's entries the layer does not override. */
    private final class Entries implements Iterator<Entry<K, V>> {
        private final Iterator<Entry<K, Object>> fromLayer = layer.entrySet().iterator();
        private final Iterator<Entry<K, V>> fromBase = base.entrySet().iterator();
        private Entry<K, V> next = advance();

        @SuppressWarnings("unchecked")
        private Entry<K, V> advance() {
            while (fromLayer.hasNext()) {
                Entry<K, Object> entry = fromLayer.next();
                if (entry.getValue() != REMOVED) {
                    return new SimpleImmutableEntry<>(entry.getKey(), (V) entry.getValue());
                }
            }
            while (fromBase.hasNext()) {
                Entry<K, V> entry = fromBase.next();
                if (!layer.containsKey(entry.getKey())) {
                    return entry;
                }
            }
            return null;
        }

        @Override
        public boolean hasNext() {
            return next != null;
        }

        @Override
        public Entry<K, V> next() {
            if (next == null) {
                throw new NoSuchElementException();
            }
            Entry<K, V> current = next;
            next = advance();
            return current;
        }
    }
}
