package dev.vnet.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.wire.Ipv4Address;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * A load-balancing gateway as it registers with the controller when it starts. JSON:
 * {@code {"name":"gw1","address":"10.99.0.11","port":4790,"location":"zone-a","public_address":"198.18.0.11"}}
 * ({@code location} may be omitted: no location).
 *
 * @param underlayAddress the address hosts reach it at (JSON {@code address}), unicast like a host's
 * @param port            its UDP port on the underlay
 * @param location        its location label, compared with the backends' hosts' for locality; "" for none
 * @param publicAddress   the address it sends from towards clients outside (its egress SNAT address)
 */
public record GatewaySpec(String name, int underlayAddress, int port, String location, int publicAddress) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final Set<String> FIELDS = Set.of("name", "address", "port", "location", "public_address");

    public GatewaySpec {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name " + (name == null ? "is required" : "'" + name + "' is invalid")
                    + ": 1 to 63 of A-Z a-z 0-9 . _ -, starting with a letter or digit");
        }
        checkUnicast("address", underlayAddress);
        if (port < 1 || port > ListenerPort.MAX_PORT) {
            throw new IllegalArgumentException("port must be 1 to " + ListenerPort.MAX_PORT + ", not " + port);
        }
        LocationLabel.requireValid("location", location);
        checkUnicast("public_address", publicAddress);
    }

    /** The hosts' rule for underlay addresses: not 0.0.0.0, not multicast or above. */
    private static void checkUnicast(String field, int address) {
        if (address == 0 || Integer.compareUnsigned(address, 0xE000_0000) >= 0) {
            throw new IllegalArgumentException(field + " " + Ipv4Address.toString(address) + " is not a unicast address");
        }
    }

    /**
     * The gateway in {@code node}.
     *
     * @throws IllegalArgumentException naming the field, for an unknown field, a missing or mistyped one,
     *                                  or a value the constructor refuses
     */
    public static GatewaySpec fromJson(JsonNode node) {
        JsonFields fields = JsonFields.of(node, "", "a gateway", FIELDS);
        String name = fields.requiredText("name");
        int address = address(fields, "address");
        if (!fields.has("port")) {
            throw new IllegalArgumentException("port is required");
        }
        int port = fields.integer("port", 0);
        String location = fields.text("location", LocationLabel.NONE);
        int publicAddress = address(fields, "public_address");
        return new GatewaySpec(name, address, port, location, publicAddress);
    }

    private static int address(JsonFields fields, String field) {
        String text = fields.requiredText(field);
        try {
            return Ipv4Address.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + " '" + text + "' is not an IPv4 address (a.b.c.d)");
        }
    }

    /** Every field, {@code location} included when empty. */
    public ObjectNode toJson() {
        return JsonNodeFactory.instance.objectNode().put("name", name).put("address", Ipv4Address.toString(underlayAddress))
                .put("port", port).put("location", location).put("public_address", Ipv4Address.toString(publicAddress));
    }
}
