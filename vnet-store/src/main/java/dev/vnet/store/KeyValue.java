package dev.vnet.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One entry as the store holds it (etcd's mvccpb.KeyValue).
 *
 * @param createRevision revision of the write that created the key (since its last delete)
 * @param modRevision    revision of its last write
 * @param version        writes since creation: 1 after the creating put
 * @param lease          the lease it lives with, 0 for none
 */
public record KeyValue(String key, byte[] value, long createRevision, long modRevision, long version, long lease) {
    public KeyValue {
        Objects.requireNonNull(key, "key");
        value = value.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    public String valueAsString() {
        return new String(value, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyValue kv && key.equals(kv.key) && Arrays.equals(value, kv.value)
                && createRevision == kv.createRevision && modRevision == kv.modRevision && version == kv.version
                && lease == kv.lease;
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, Arrays.hashCode(value), createRevision, modRevision, version, lease);
    }

    @Override
    public String toString() {
        return "KeyValue[" + key + " = " + value.length + " bytes, create " + createRevision + ", mod " + modRevision
                + ", version " + version + (lease != 0 ? ", lease " + lease : "") + "]";
    }
}
