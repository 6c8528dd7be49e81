package dev.vnet.store;

import java.util.Objects;

/**
 * One change seen by a watch. For a {@link Type#DELETE} the entry carries the key, an empty value, the
 * delete's revision as {@code modRevision}, and zero create revision and version (as etcd reports it).
 */
public record Event(Type type, KeyValue entry) {
    public enum Type { PUT, DELETE }

    public Event {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(entry, "entry");
    }

    public long revision() {
        return entry.modRevision();
    }

    public String key() {
        return entry.key();
    }
}
