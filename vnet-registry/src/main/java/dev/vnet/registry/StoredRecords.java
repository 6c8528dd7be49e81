package dev.vnet.registry;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.List;

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
 *   vms/NAME               {"name","network","host","address","mac","port","key","additionalAddresses"}
 *   rules/SOURCE/DEST      {"source","destination"}
 *   gateways/NETWORK/NAME  {"network","name","address","port"}
 *   gateway-keys/NETWORK   {"network","key"}
 * </pre>
 *
 * <p>A network's gateways share one key, so it is a record of its own, written with the network's first
 * gateway and deleted with its last (one transaction each time): a gateway record without its network's
 * key record is refused at load. Before gateway sets a network had one gateway, stored with its key as
 * {@code gateways/NETWORK} ({@link LegacyGatewayRecord}); the registry still reads that and rewrites it
 * in this layout when it loads.
 */
final class StoredRecords {
    static final String NETWORKS = "networks/";
    static final String HOSTS = "hosts/";
    static final String VMS = "vms/";
    static final String RULES = "rules/";
    static final String GATEWAYS = "gateways/";
    static final String GATEWAY_KEYS = "gateway-keys/";

    private static final ObjectMapper JSON = new ObjectMapper();

    private StoredRecords() {
    }

    record NetworkRecord(String name, long id, String subnet) {
    }

    record HostRecord(String name, String address) {
    }

    /** @param additionalAddresses absent when the VM has none, so such a VM's record reads as before they existed */
    record VmRecord(String name, String network, String host, String address, String mac, int port, byte[] key,
                    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> additionalAddresses) {
    }

    record RuleRecord(String source, String destination) {
    }

    record GatewayRecord(String network, String name, String address, int port) {
    }

    record GatewayKeyRecord(String network, byte[] key) {
    }

    /** A network's only gateway with its key, as stored before gateway sets, at {@code gateways/NETWORK}. */
    record LegacyGatewayRecord(String network, String name, String address, int port, byte[] key) {
    }

    static String gatewayKey(String network, String name) {
        return GATEWAYS + network + "/" + name;
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
