package dev.vnet.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * The registry's records in the {@link dev.vnet.store.ConfigStore}: one JSON value per entity, so that
 * everything assigned to a VM (address, MAC, port, key) is written by one put and a crash can never
 * leave half a VM. Addresses are in text form so that a person can read a dump of the store; keys are
 * base64 (Jackson's form for byte arrays). The names below follow the registry's key prefix
 * ({@link RegistryService#STORE_PREFIX}, so {@code /registry/vms/NAME} for {@code vnet registry}).
 *
 * <pre>
 *   networks/NAME          {"name","id","subnet"}
 *   hosts/NAME             {"name","address"}
 *   vms/NAME               {"name","network","host","address","mac","port","key"}
 *   rules/SOURCE/DEST      {"source","destination"}
 *   gateways/NETWORK       {"network","name","address","port","key"}
 * </pre>
 */
final class StoredRecords {
    static final String NETWORKS = "networks/";
    static final String HOSTS = "hosts/";
    static final String VMS = "vms/";
    static final String RULES = "rules/";
    static final String GATEWAYS = "gateways/";

    private static final ObjectMapper JSON = new ObjectMapper();

    private StoredRecords() {
    }

    record NetworkRecord(String name, long id, String subnet) {
    }

    record HostRecord(String name, String address) {
    }

    record VmRecord(String name, String network, String host, String address, String mac, int port, byte[] key) {
    }

    record RuleRecord(String source, String destination) {
    }

    record GatewayRecord(String network, String name, String address, int port, byte[] key) {
    }

    static String ruleKey(String source, String destination) {
        return RULES + source + "/" + destination;
    }

    static byte[] encode(Object record) {
        try {
            return JSON.writeValueAsBytes(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + record.getClass().getSimpleName(), e);
        }
    }

    static <T> T decode(String key, byte[] value, Class<T> type) {
        try {
            return JSON.readValue(value, type);
        } catch (IOException e) {
            throw new IllegalStateException("store record " + key + " is not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
