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
            column("MAC", "mac_address"), column("PORT", "port_id"), column("STATUS", "status")));

    record Column(String header, Function<JsonNode, String> value) {
    }

    private final String singular;
    private final List<Column> columns;

    ResourceType(String singular, List<Column> columns) {
        this.singular = singular;
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
        return "/v2.0/" + plural();
    }

    List<Column> columns() {
        return columns;
    }

    private static Column column(String header, String field) {
        return new Column(header, node -> node.path(field).isNull() || node.path(field).isMissingNode() ? "" : node.path(field).asText());
    }

    private static String joined(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return String.join(",", values);
    }
}
