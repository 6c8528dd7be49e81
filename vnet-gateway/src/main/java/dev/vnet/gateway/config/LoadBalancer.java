package dev.vnet.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.wire.Ipv4Address;

import java.util.ArrayList;
import java.util.List;

/**
 * A load balancer as the controller's API shows it: the normalized spec, the id the controller gave
 * it, the id of the network it resolved {@code spec.network()} to, and the members: the backends
 * that are VMs of that network now, with where they run. A backend whose VM does not exist (it was
 * deleted, or not created yet) is not a member; it becomes one again when a VM of that name appears
 * in the network.
 *
 * <p>The view's JSON is the spec's fields plus {@code id}, {@code network_id} and
 * {@code members: [{"vm","vm_id","address","host","location"}]}; {@link #fromJson} ignores any other
 * field a newer controller may add.
 */
public record LoadBalancer(String id, String networkId, LoadBalancerSpec spec, List<Member> members) {
    public LoadBalancer {
        members = List.copyOf(members);
    }

    /**
     * A backend that is a VM of the load balancer's network.
     *
     * @param vm       the VM's name, as listed in the spec's backends
     * @param vmId     the VM's id (also its name in the VM registry)
     * @param address  the VM's address in the network (its port's)
     * @param host     the name of the host it runs on
     * @param location that host's location label, "" for none
     */
    public record Member(String vm, String vmId, int address, String host, String location) {
        public ObjectNode toJson(ObjectNode into) {
            return into.put("vm", vm).put("vm_id", vmId).put("address", Ipv4Address.toString(address)).put("host", host)
                    .put("location", location);
        }
    }

    /** Reads a view the API answered with (the object inside the {@code loadbalancer} envelope). */
    public static LoadBalancer fromJson(JsonNode view) {
        if (view == null || !view.isObject()) {
            throw new IllegalArgumentException("a load balancer view must be a JSON object");
        }
        ObjectNode specFields = ((ObjectNode) view).deepCopy();
        specFields.retain(LoadBalancerSpec.FIELD_NAMES);
        LoadBalancerSpec spec = LoadBalancerSpec.fromJson(specFields);
        List<Member> members = new ArrayList<>();
        for (JsonNode member : view.path("members")) {
            members.add(new Member(member.path("vm").asText(), member.path("vm_id").asText(),
                    Ipv4Address.parse(member.path("address").asText()), member.path("host").asText(), member.path("location").asText("")));
        }
        return new LoadBalancer(view.path("id").asText(), view.path("network_id").asText(), spec, members);
    }

    /** The view's JSON: the normalized spec, then id, network_id and members. */
    public ObjectNode toJson() {
        ObjectNode json = spec.toJson();
        ObjectNode view = json.objectNode().put("id", id);
        view.setAll(json);
        view.put("network_id", networkId);
        members.forEach(member -> member.toJson(view.withArray("members").addObject()));
        if (members.isEmpty()) {
            view.putArray("members");
        }
        return view;
    }
}
