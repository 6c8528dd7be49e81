package dev.vnet.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.gateway.config.GatewaySpec;
import dev.vnet.gateway.config.LoadBalancerSpec;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.KeyValue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Load balancers and gateways as documents in the config store, one key per resource named by the
 * resource's name: {@code /vnet/lbaas/loadbalancers/NAME} holds {"id", "network_id", "spec"} and
 * {@code /vnet/lbaas/gateways/NAME} holds {"id", "spec"}, the spec in its normalized JSON form.
 *
 * <p>Why not nodes of the resource graph: a graph node exists to allocate from its owner (an address,
 * a port, a name) in its task, and its usage links pin what it uses. A load balancer allocates
 * nothing (its VIP is given), and it names its backends by VM name on purpose: a VM may be deleted
 * and created again (the usual way to replace one) without editing the load balancer, which would
 * not survive a usage link to the old node. A gateway is a process that registers itself, owned by
 * nothing in the graph. So both are kept beside the graph, with the checks that relate them to it
 * (the network exists, the backends are its VMs) made by {@link Controller}. Keying by name makes a
 * create by name one compare-and-set: two creates racing cannot both store the same name.
 */
final class LbaasStore {
    static final String LOAD_BALANCERS = "/vnet/lbaas/loadbalancers/";
    static final String GATEWAYS = "/vnet/lbaas/gateways/";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A stored load balancer: its id, the network its spec's network was resolved to, its spec. */
    record StoredLoadBalancer(String id, String networkId, LoadBalancerSpec spec) {
    }

    private final ConfigStore store;

    LbaasStore(ConfigStore store) {
        this.store = store;
    }

    /** Every load balancer, by name. */
    List<StoredLoadBalancer> loadBalancers() {
        return readAll(LOAD_BALANCERS, document -> new StoredLoadBalancer(document.path("id").asText(),
                document.path("network_id").asText(), LoadBalancerSpec.fromJson(document.path("spec"))));
    }

    /** Every gateway, by name. */
    List<RegisteredGateway> gateways() {
        return readAll(GATEWAYS, document -> new RegisteredGateway(document.path("id").asText(),
                GatewaySpec.fromJson(document.path("spec"))));
    }

    /** Stores a new load balancer; false if one of that name is there already (nothing written). */
    boolean putIfAbsent(StoredLoadBalancer loadBalancer) {
        ObjectNode document = JSON.createObjectNode().put("id", loadBalancer.id()).put("network_id", loadBalancer.networkId());
        document.set("spec", loadBalancer.spec().toJson());
        return store.putIfAbsent(LOAD_BALANCERS + loadBalancer.spec().name(), bytes(document));
    }

    /** Stores a new gateway; false if one of that name is there already (nothing written). */
    boolean putIfAbsent(RegisteredGateway gateway) {
        ObjectNode document = JSON.createObjectNode().put("id", gateway.id());
        document.set("spec", gateway.spec().toJson());
        return store.putIfAbsent(GATEWAYS + gateway.spec().name(), bytes(document));
    }

    boolean deleteLoadBalancer(String name) {
        return store.delete(LOAD_BALANCERS + name);
    }

    boolean deleteGateway(String name) {
        return store.delete(GATEWAYS + name);
    }

    static <T> Optional<T> byIdOrName(List<T> all, String idOrName, Function<T, String> id, Function<T, String> name) {
        return all.stream().filter(item -> id.apply(item).equals(idOrName)).findFirst()
                .or(() -> all.stream().filter(item -> name.apply(item).equals(idOrName)).findFirst());
    }

    private <T> List<T> readAll(String prefix, Function<JsonNode, T> read) {
        List<T> all = new ArrayList<>();
        for (KeyValue entry : store.range(prefix).entries()) { // in key order, so by name
            try {
                all.add(read.apply(JSON.readTree(entry.value())));
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalStateException("config store record " + entry.key() + " is not a valid document: " + e.getMessage(), e);
            }
        }
        return all;
    }

    private static byte[] bytes(JsonNode document) {
        try {
            return JSON.writeValueAsBytes(document);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
