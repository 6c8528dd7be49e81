package dev.vnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.api.client.ApiResponse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Declares a topology to the controller through its REST API, as an operator's tooling would: a
 * project named after the lab, the hosts, each network with its subnet, and each VM with a port in its
 * network (at the topology's address, or one the controller picks). Every call is idempotent, so
 * building a topology twice changes nothing the second time.
 */
final class LabApi {
    /** What the controller made of the topology, and the version to wait for. */
    record Built(List<Lab.Vm> vms, long version) {
    }

    private LabApi() {
    }

    static Built build(Topology topology, ApiClient api) {
        long[] version = {0};
        String project = create(api, "/v2.0/projects", "project", Map.of("name", topology.name()), version).path("id").asText();
        Map<String, String> hostIds = new HashMap<>();
        for (Topology.Host host : topology.hosts()) {
            hostIds.put(host.name(), create(api, "/v2.0/hosts", "host", Map.of("name", host.name(), "address", host.address()), version)
                    .path("id").asText());
        }
        Map<String, String> networkIds = new HashMap<>();
        Map<String, Integer> prefixLengths = new HashMap<>();
        for (Topology.Network network : topology.networks()) {
            String id = create(api, "/v2.0/networks", "network", Map.of("name", network.name(), "project_id", project,
                    "provider:segmentation_id", network.id()), version).path("id").asText();
            networkIds.put(network.name(), id);
            JsonNode subnet = create(api, "/v2.0/subnets", "subnet", Map.of("name", network.name(), "network_id", id,
                    "cidr", network.subnet()), version);
            prefixLengths.put(network.name(), Integer.parseInt(subnet.path("cidr").asText().split("/")[1]));
        }
        List<Lab.Vm> vms = new ArrayList<>();
        for (Topology.Vm vm : topology.vms()) {
            Map<String, Object> port = new LinkedHashMap<>();
            port.put("name", vm.name());
            port.put("network_id", networkIds.get(vm.network()));
            if (vm.ip() != null) {
                port.put("fixed_ips", List.of(Map.of("ip_address", vm.ip())));
            }
            String portId = create(api, "/v2.0/ports", "port", port, version).path("id").asText();
            JsonNode created = create(api, "/v2.0/vms", "vm", Map.of("name", vm.name(), "project_id", project,
                    "host", hostIds.get(vm.host()), "port_id", portId), version);
            vms.add(new Lab.Vm(vm.name(), vm.network(), vm.host(), created.path("ip_address").asText(),
                    prefixLengths.get(vm.network()), created.path("mac_address").asText(), created.path("host_port").asInt(),
                    LabNames.vmNamespace(topology.name(), vm.name())));
        }
        return new Built(vms, version[0]);
    }

    /** POSTs {@code {kind: fields}} and returns the created (or existing) resource; keeps the highest version seen. */
    private static JsonNode create(ApiClient api, String path, String kind, Map<String, Object> fields, long[] version) {
        ApiResponse response = api.post(path, Map.of(kind, fields));
        response.version().ifPresent(v -> version[0] = Math.max(version[0], v));
        return response.body().path(kind);
    }
}
