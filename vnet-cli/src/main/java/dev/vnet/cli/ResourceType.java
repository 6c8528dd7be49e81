package dev.vnet.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** A kind of resource of the controller's API as the CLI shows it: its names and the columns of its list. */
enum ResourceType {
    PROJECT("project", List.of(column("ID", "id"), column("NAME", "name"))),
    HOST("host", List.of(column("ID", "id"), column("NAME", "name"), column("ADDRESS", "address"),
            new Column("VMS", host -> Integer.toString(host.path("vm_ids").size())))),
    NETWORK("network", List.of(column("ID", "id"), column("NAME", "name"),
            new Column("SUBNETS", network -> joined(network.path("subnets"))), column("SEGMENTATION", "provider:segmentation_id"))),
    SUBNET("subnet", List.of(column("ID", "id"), column("NAME", "name"), column("NETWORK", "network_id"), column("CIDR", "cidr"),
            column("GATEWAY", "gateway_ip"))),
    PORT("port", List.of(column("ID", "id"), column("NAME", "name"), column("NETWORK", "network_id"),
            new Column("IP", port -> port.path("fixed_ips").path(0).path("ip_address").asText("")), column("MAC", "mac_address"),
            column("HOST", "binding:host_id"), column("STATUS", "status"))),
    VM("vm", List.of(column("ID", "id"), column("NAME", "name"), column("HOST", "host"), column("IP", "ip_address"),
            column("MAC", "mac_address"), column("PORT", "port_id"), column("STATUS", "status"))),
    /** Octavia's name and place: {@code /v2.0/lbaas/loadbalancers}; its delete takes no --force (nothing uses it). */
    LOADBALANCER("loadbalancer", "/v2.0/lbaas/loadbalancers", false, List.of(column("ID", "id"), column("NAME", "name"),
            column("VIP", "vip_address"), new Column("PORTS", lb -> ports(lb.path("ports"))), column("MODE", "forwarding"),
            new Column("MEMBERS", lb -> lb.path("members").size() + "/" + lb.path("backends").size()),
            new Column("BACKENDS", lb -> joined(lb.path("backends")))));

    record Column(String header, Function<JsonNode, String> value) {
    }

    private final String singular;
    private final String collection;
    private final boolean deleteTakesForce;
    private final List<Column> columns;

    ResourceType(String singular, List<Column> columns) {
        this(singular, "/v2.0/" + singular + "s", true, columns);
    }

    ResourceType(String singular, String collection, boolean deleteTakesForce, List<Column> columns) {
        this.singular = singular;
        this.collection = collection;
        this.deleteTakesForce = deleteTakesForce;
        this.columns = columns;
    }

    /** The name of one, and the key of its envelope: {@code network}. */
    String singular() {
        return singular;
    }

    /** The name of several, the key of a list's envelope and the API's collection: {@code networks}. */
    String plural() {
        return singular + "s";
    }

    String collection() {
        return collection;
    }

    /** Whether the API's delete takes ?force=true (it does for the graph's resources, which others may use). */
    boolean deleteTakesForce() {
        return deleteTakesForce;
    }

    List<Column> columns() {
        return columns;
    }

    private static Column column(String header, String field) {
        return new Column(header, node -> node.path(field).isNull() || node.path(field).isMissingNode() ? "" : node.path(field).asText());
    }

    /** A load balancer's listener ports: {@code tcp:80,udp:53}. */
    private static String ports(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(port -> values.add(port.path("protocol").asText() + ":" + port.path("port").asText()));
        return String.join(",", values);
    }

    private static String joined(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return String.join(",", values);
    }
}
