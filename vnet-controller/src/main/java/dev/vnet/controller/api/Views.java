package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.Controller;
import dev.vnet.controller.RegisteredGateway;
import dev.vnet.gateway.config.LoadBalancer;
import dev.vnet.controller.graph.Kind;
import dev.vnet.controller.graph.Resource;
import dev.vnet.registry.Subnet;
import dev.vnet.wire.Ipv4Address;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Graph resources as the API shows them, with Neutron's field names where Neutron has the resource
 * (networks, subnets, ports) and the same conventions for the rest. A view reads the nodes around the
 * resource (a port's subnet and VM, a VM's host and port); one {@code Views} serves one request and
 * reads each kind's list at most once, so a list of n resources costs O(n), not O(n²).
 */
final class Views {
    /** A port bound to a VM is owned by the compute service, in Neutron's terms. */
    static final String DEVICE_OWNER = "compute:vnet";
    static final String ACTIVE = "ACTIVE";
    static final String DOWN = "DOWN";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Controller controller;
    private final Map<Kind, List<Resource>> lists = new EnumMap<>(Kind.class);

    Views(Controller controller) {
        this.controller = controller;
    }

    /** The envelope Neutron wraps one resource in: {@code {"network": {...}}}. */
    static ObjectNode envelope(Kind kind, ObjectNode view) {
        ObjectNode body = JSON.objectNode();
        body.set(kind.label(), view);
        return body;
    }

    /** The envelope of a list: {@code {"networks": [...]}}. */
    ObjectNode list(Kind kind, List<Resource> resources) {
        ObjectNode body = JSON.objectNode();
        ArrayNode items = body.putArray(kind.label() + "s");
        resources.forEach(resource -> items.add(of(resource)));
        return body;
    }

    ObjectNode of(Resource resource) {
        return switch (resource.kind()) {
            case PROJECT -> project(resource);
            case HOST -> host(resource);
            case NETWORK -> network(resource);
            case SUBNET -> subnet(resource);
            case PORT -> port(resource);
            case VM -> vm(resource);
            case CLOUD -> throw new IllegalArgumentException("the cloud is not a resource of the API");
        };
    }

    private ObjectNode project(Resource project) {
        return JSON.objectNode().put("id", project.id()).put("name", project.name());
    }

    private ObjectNode host(Resource host) {
        ObjectNode view = JSON.objectNode().put("id", host.id()).put("name", host.name())
                .put("address", (String) host.attributes().get("address"))
                .put("location", (String) host.attributes().getOrDefault("location", ""));
        ArrayNode vms = view.putArray("vm_ids");
        host.usedBy().forEach(vms::add);
        return view;
    }

    private ObjectNode network(Resource network) {
        ObjectNode view = JSON.objectNode().put("id", network.id()).put("name", network.name())
                .put("project_id", network.ownerId()).put("status", ACTIVE).put("admin_state_up", true);
        ArrayNode subnets = view.putArray("subnets");
        children(Kind.SUBNET, network.id()).forEach(subnet -> subnets.add(subnet.id()));
        view.put("provider:network_type", "vnp");
        view.put("provider:segmentation_id", ((Number) network.attributes().get("network_id")).longValue());
        return view;
    }

    private ObjectNode subnet(Resource subnet) {
        String cidr = (String) subnet.attributes().get("cidr");
        return JSON.objectNode().put("id", subnet.id()).put("name", subnet.name()).put("network_id", subnet.ownerId())
                .put("project_id", projectOfNetwork(subnet.ownerId())).put("ip_version", 4).put("cidr", cidr)
                .put("gateway_ip", Ipv4Address.toString(Subnet.parse(cidr).addressAt(1)));
    }

    private ObjectNode port(Resource port) {
        String networkId = controller.get(port.ownerId()).map(Resource::ownerId).orElse(null);
        ObjectNode view = JSON.objectNode().put("id", port.id()).put("name", port.name()).put("network_id", networkId)
                .put("project_id", projectOfNetwork(networkId)).put("mac_address", (String) port.attributes().get("mac_address"));
        view.putArray("fixed_ips").addObject().put("subnet_id", port.ownerId())
                .put("ip_address", (String) port.attributes().get("ip_address"));
        Optional<Resource> vm = port.usedBy().stream().findFirst().flatMap(controller::get);
        view.put("device_id", vm.map(Resource::id).orElse(""));
        view.put("device_owner", vm.isPresent() ? DEVICE_OWNER : "");
        view.put("binding:host_id", vm.flatMap(v -> controller.get((String) v.attributes().get("host"))).map(Resource::name).orElse(""));
        view.put("status", vm.isPresent() ? ACTIVE : DOWN);
        return view;
    }

    /** A VM with the addresses of its one port; a forced delete of that port leaves it DOWN, with nulls. */
    private ObjectNode vm(Resource vm) {
        String hostId = (String) vm.attributes().get("host");
        Optional<Resource> port = vm.uses().stream().filter(id -> !id.equals(hostId)).findFirst().flatMap(controller::get);
        ObjectNode view = JSON.objectNode().put("id", vm.id()).put("name", vm.name()).put("project_id", vm.ownerId())
                .put("host", controller.get(hostId).map(Resource::name).orElse(null)).put("host_id", hostId)
                .put("port_id", port.map(Resource::id).orElse(null))
                .put("ip_address", port.map(p -> (String) p.attributes().get("ip_address")).orElse(null))
                .put("mac_address", port.map(p -> (String) p.attributes().get("mac_address")).orElse(null))
                .put("host_port", ((Number) vm.attributes().get("host_port")).intValue());
        view.put("status", port.isPresent() ? ACTIVE : DOWN);
        return view;
    }

    /** A load balancer: its normalized spec with id, network_id and the members resolved now. */
    static ObjectNode loadBalancer(LoadBalancer loadBalancer) {
        return loadBalancer.toJson();
    }

    /** A gateway: its id, then the spec it registered with. */
    static ObjectNode gateway(RegisteredGateway gateway) {
        ObjectNode view = JSON.objectNode().put("id", gateway.id());
        view.setAll(gateway.spec().toJson());
        return view;
    }

    /** {@code {"name": view}} for the resources that are not graph kinds (loadbalancer, gateway). */
    static ObjectNode envelope(String name, ObjectNode view) {
        ObjectNode body = JSON.objectNode();
        body.set(name, view);
        return body;
    }

    List<Resource> children(Kind kind, String ownerId) {
        return all(kind).stream().filter(r -> r.ownerId().equals(ownerId)).toList();
    }

    List<Resource> all(Kind kind) {
        return lists.computeIfAbsent(kind, controller::list);
    }

    private String projectOfNetwork(String networkId) {
        return networkId == null ? null : controller.get(networkId).map(Resource::ownerId).orElse(null);
    }
}
