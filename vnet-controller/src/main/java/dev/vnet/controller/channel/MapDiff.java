package dev.vnet.controller.channel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How one keyed collection changed: values whose key is new, values whose key is gone, and values whose
 * key stayed but whose content changed. Immutable.
 *
 * @param added   the new values of new keys
 * @param removed the old values of keys that are gone
 * @param changed the new values of keys whose value is no longer equal to the old one
 */
public record MapDiff<V>(List<V> added, List<V> removed, List<V> changed) {
    private static final MapDiff<?> NONE = new MapDiff<>(List.of(), List.of(), List.of());

    public MapDiff {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        changed = List.copyOf(changed);
    }

    @SuppressWarnings("unchecked")
    public static <V> MapDiff<V> none() {
        return (MapDiff<V>) NONE;
    }

    /**
     * From {@code from} to {@code to}. The same map instance is no change, without looking inside; two
     * {@link LayeredMap}s on one base are compared at the keys of their layers only.
     */
    public static <K, V> MapDiff<V> between(Map<K, V> from, Map<K, V> to) {
        if (from == to) {
            return none();
        }
        List<V> added = new ArrayList<>();
        List<V> removed = new ArrayList<>();
        List<V> changed = new ArrayList<>();
        if (from instanceof LayeredMap<K, V> layeredFrom && to instanceof LayeredMap<K, V> layeredTo) {
            Set<?> keys = LayeredMap.changedKeys(layeredFrom, layeredTo);
            if (keys != null) {
                for (Object key : keys) {
                    V old = from.get(key);
                    V now = to.get(key);
                    if (old == null && now != null) {
                        added.add(now);
                    } else if (old != null && now == null) {
                        removed.add(old);
                    } else if (old != null && !old.equals(now)) {
                        changed.add(now);
                    }
                }
                return added.isEmpty() && removed.isEmpty() && changed.isEmpty() ? none() : new MapDiff<>(added, removed, changed);
            }
        }
        for (Map.Entry<K, V> entry : to.entrySet()) {
            V old = from.get(entry.getKey());
            if (old == null) {
                added.add(entry.getValue());
            } else if (!old.equals(entry.getValue())) {
                changed.add(entry.getValue());
            }
        }
        for (Map.Entry<K, V> entry : from.entrySet()) {
            if (!to.containsKey(entry.getKey())) {
                removed.add(entry.getValue());
            }
        }
        return added.isEmpty() && removed.isEmpty() && changed.isEmpty() ? none() : new MapDiff<>(added, removed, changed);
    }

    public boolean isEmpty() {
        return added.isEmpty() && removed.isEmpty() && changed.isEmpty();
    }

    /** How many keys changed in any way. */
    public int size() {
        return added.size() + removed.size() + changed.size();
    }
}
