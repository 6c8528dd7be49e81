package dev.vnet.gateway.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.gateway.hashing.FlowHash;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.gateway.hashing.MaglevTable;
import dev.vnet.gateway.hashing.MappingKind;
import dev.vnet.gateway.hashing.MappingSpec;
import dev.vnet.wire.Ipv4Address;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A load-balanced public address (VIP) as the customer configured it: the ports it listens on, the
 * VMs (by name, in {@code network}) that serve it, and how the gateways spread flows over them.
 * Immutable; the constructor refuses anything invalid with a message naming the field as the JSON
 * form spells it. The controller keeps it, and the gateways read it back, in this JSON form:
 *
 * <pre>{@code
 * {"name":"web","network":"blue","vip_address":"198.51.100.10","ports":[{"protocol":"tcp","port":80}],
 *  "backends":["vm1","vm2"],"forwarding":"dnat","flow_identity":"5-tuple","table":{"kind":"maglev","size":65537},
 *  "health_check":{"type":"http","port":80,"path":"/healthz","expected_status":200,"interval_ms":1000,
 *                  "timeout_ms":500,"up_threshold":2,"down_threshold":3},
 *  "locality":false,"idle_timeout_seconds":300}
 * }</pre>
 *
 * {@link #fromJson} fills what is omitted (forwarding dnat, flow_identity 5-tuple, a Maglev table of
 * 65,537 slots, the health check of {@link HealthCheckSpec#defaultFor}, locality false, idle timeout
 * 300 s); {@link #toJson} writes every field, so its output is the normalized form that compares equal
 * for equal specs.
 *
 * @param network            the network's name or id; the backends are VMs of that network
 * @param vipAddress         the VIP, a unicast IPv4 address
 * @param backends           VM names, in the order that indexes the consistent mapping
 * @param table              the consistent mapping; its hash seed is always {@link FlowHash#DEFAULT_SEED},
 *                           which every gateway then shares
 * @param locality           whether a gateway prefers backends with its own location label
 * @param idleTimeoutSeconds how long a flow without packets keeps its backend
 */
public record LoadBalancerSpec(String name, String network, int vipAddress, List<ListenerPort> ports, List<String> backends,
                               ForwardingMode forwarding, FlowIdentity flowIdentity, MappingSpec table,
                               HealthCheckSpec healthCheck, boolean locality, int idleTimeoutSeconds) {
    public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
    public static final int MAX_IDLE_TIMEOUT_SECONDS = 86_400;
    public static final int MIN_MAGLEV_SIZE = 7;
    public static final int MAX_MAGLEV_SIZE = 1_000_003;
    /** Points per backend of a seed table when {@code table.points} is omitted. */
    public static final int DEFAULT_SEED_POINTS = 100;
    public static final int MAX_SEED_POINTS = 10_000;
    /** The balance of both mappings was measured up to this many backends (GatewayMappingBenchmark). */
    public static final int MAX_BACKENDS = 1_000;

    /** Names of the load balancer, its network and its backends: the controller's resource names. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final String NAME_RULE = "1 to 63 of A-Z a-z 0-9 . _ -, starting with a letter or digit";
    /** The fields of the JSON form. */
    public static final Set<String> FIELD_NAMES = Set.of("name", "network", "vip_address", "ports", "backends", "forwarding",
            "flow_identity", "table", "health_check", "locality", "idle_timeout_seconds");
    private static final Set<String> PORT_FIELDS = Set.of("protocol", "port");
    private static final Set<String> TABLE_FIELDS = Set.of("kind", "size", "points");
    private static final Map<FlowIdentity, String> IDENTITY_NAMES = Map.of(FlowIdentity.FIVE_TUPLE, "5-tuple",
            FlowIdentity.THREE_TUPLE, "3-tuple", FlowIdentity.TWO_TUPLE, "2-tuple");
    /** Reads JSON text as strictly as the controller's API: a field given twice or trailing content is refused. */
    private static final ObjectMapper STRICT = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    public LoadBalancerSpec {
        checkName("name", name);
        checkName("network", network);
        checkVip(vipAddress);
        if (ports == null || ports.isEmpty()) {
            throw new IllegalArgumentException("ports: a load balancer needs at least one listener port");
        }
        ports = List.copyOf(ports);
        Set<ListenerPort> seenPorts = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            if (!seenPorts.add(ports.get(i))) {
                throw new IllegalArgumentException("ports[" + i + "]: " + ports.get(i) + " is listed twice");
            }
        }
        if (backends == null || backends.isEmpty()) {
            throw new IllegalArgumentException("backends: a load balancer needs at least one backend VM");
        }
        backends = List.copyOf(backends);
        if (backends.size() > MAX_BACKENDS) {
            throw new IllegalArgumentException("backends: at most " + MAX_BACKENDS + ", not " + backends.size());
        }
        Set<String> seenBackends = new HashSet<>();
        for (int i = 0; i < backends.size(); i++) {
            checkName("backends[" + i + "]", backends.get(i));
            if (!seenBackends.add(backends.get(i))) {
                throw new IllegalArgumentException("backends[" + i + "]: vm " + backends.get(i) + " is listed twice");
            }
        }
        if (forwarding == null) {
            throw new IllegalArgumentException("forwarding is required: dnat or unchanged");
        }
        if (flowIdentity == null) {
            throw new IllegalArgumentException("flow_identity is required: 5-tuple, 3-tuple or 2-tuple");
        }
        checkTable(table, backends.size());
        if (healthCheck == null) {
            throw new IllegalArgumentException("health_check is required");
        }
        if (idleTimeoutSeconds < 1 || idleTimeoutSeconds > MAX_IDLE_TIMEOUT_SECONDS) {
            throw new IllegalArgumentException("idle_timeout_seconds must be 1 to " + MAX_IDLE_TIMEOUT_SECONDS + ", not " + idleTimeoutSeconds);
        }
    }

    /** A spec with every option at its default. */
    public static LoadBalancerSpec withDefaults(String name, String network, int vipAddress, List<ListenerPort> ports,
                                                List<String> backends) {
        return new LoadBalancerSpec(name, network, vipAddress, ports, backends, ForwardingMode.DNAT, FlowIdentity.DEFAULT,
                MappingSpec.DEFAULT, HealthCheckSpec.defaultFor(ports), false, DEFAULT_IDLE_TIMEOUT_SECONDS);
    }

    private static void checkName(String field, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException(field + " " + (value == null ? "is required" : "'" + value + "' is invalid") + ": " + NAME_RULE);
        }
    }

    /** A VIP is a unicast address a client can send to: not "this network", loopback, multicast, reserved or broadcast. */
    private static void checkVip(int address) {
        int firstOctet = address >>> 24;
        String reason = firstOctet == 0 ? "is in 0.0.0.0/8 (this network)"
                : firstOctet == 127 ? "is a loopback address"
                : address == -1 ? "is the broadcast address"
                : firstOctet >= 224 && firstOctet < 240 ? "is a multicast address"
                : firstOctet >= 240 ? "is in the reserved 240.0.0.0/4"
                : null;
        if (reason != null) {
            throw new IllegalArgumentException("vip_address " + Ipv4Address.toString(address) + " " + reason
                    + "; a VIP must be a unicast address");
        }
    }

    private static void checkTable(MappingSpec table, int backendCount) {
        if (table == null) {
            throw new IllegalArgumentException("table is required");
        }
        if (table.seed() != FlowHash.DEFAULT_SEED) {
            throw new IllegalArgumentException("table: the hash seed is always the default one, so that every gateway maps flows alike");
        }
        switch (table.kind()) {
            case MAGLEV -> {
                int size = table.parameter();
                if (size < MIN_MAGLEV_SIZE || size > MAX_MAGLEV_SIZE) {
                    throw new IllegalArgumentException("table.size must be a prime from " + MIN_MAGLEV_SIZE + " to " + MAX_MAGLEV_SIZE
                            + ", not " + size);
                }
                if (size < backendCount) {
                    throw new IllegalArgumentException("table.size " + size + " is smaller than the number of backends (" + backendCount
                            + "): every backend needs a slot; choose a prime of about 100 times the backends");
                }
            }
            case SEED -> {
                if (table.parameter() < 1 || table.parameter() > MAX_SEED_POINTS) {
                    throw new IllegalArgumentException("table.points must be 1 to " + MAX_SEED_POINTS + ", not " + table.parameter());
                }
            }
        }
    }

    public String vipText() {
        return Ipv4Address.toString(vipAddress);
    }

    // ---- JSON ----

    /** The spec in a JSON document's text; see {@link #fromJson(JsonNode)}. */
    public static LoadBalancerSpec fromJson(String text) {
        try {
            return fromJson(STRICT.readTree(text));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The spec in {@code node}, omitted options at their defaults.
     *
     * @throws IllegalArgumentException naming the field, for anything invalid: an unknown field, a value of
     *                                  the wrong type, or one the constructor refuses
     */
    public static LoadBalancerSpec fromJson(JsonNode node) {
        JsonFields fields = JsonFields.of(node, "", "a load balancer", FIELD_NAMES);
        String name = fields.requiredText("name");
        String network = fields.requiredText("network");
        String vipText = fields.requiredText("vip_address");
        int vip;
        try {
            vip = Ipv4Address.parse(vipText);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("vip_address '" + vipText + "' is not an IPv4 address (a.b.c.d)");
        }
        List<ListenerPort> ports = listenerPorts(fields);
        JsonNode backendArray = fields.array("backends");
        if (backendArray == null) {
            throw new IllegalArgumentException("backends is required: the names of the VMs that serve the VIP");
        }
        List<String> backends = fields.texts("backends", backendArray);
        ForwardingMode forwarding = forwarding(fields.text("forwarding", "dnat"));
        FlowIdentity identity = flowIdentity(fields.text("flow_identity", IDENTITY_NAMES.get(FlowIdentity.DEFAULT)));
        MappingSpec table = fields.has("table") ? table(fields.node("table")) : MappingSpec.DEFAULT;
        HealthCheckSpec healthCheck = fields.has("health_check")
                ? HealthCheckSpec.fromJson(fields.node("health_check"), "health_check", ports) : HealthCheckSpec.defaultFor(ports);
        boolean locality = fields.bool("locality", false);
        int idle = fields.integer("idle_timeout_seconds", DEFAULT_IDLE_TIMEOUT_SECONDS);
        return new LoadBalancerSpec(name, network, vip, ports, backends, forwarding, identity, table, healthCheck, locality, idle);
    }

    private static List<ListenerPort> listenerPorts(JsonFields fields) {
        JsonNode array = fields.array("ports");
        if (array == null || array.isEmpty()) {
            throw new IllegalArgumentException("ports: a load balancer needs at least one listener port, e.g. [{\"protocol\": \"tcp\", \"port\": 80}]");
        }
        List<ListenerPort> ports = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            String path = "ports[" + i + "]";
            JsonFields port = JsonFields.of(array.get(i), path, path, PORT_FIELDS);
            String protocolName = port.requiredText("protocol");
            Protocol protocol = switch (protocolName) {
                case "tcp" -> Protocol.TCP;
                case "udp" -> Protocol.UDP;
                default -> throw new IllegalArgumentException(port.path("protocol") + " must be tcp or udp, not '" + protocolName + "'");
            };
            if (!port.has("port")) {
                throw new IllegalArgumentException(port.path("port") + " is required");
            }
            int number = port.integer("port", 0);
            ports.add(JsonFields.at(path, () -> new ListenerPort(protocol, number)));
        }
        return ports;
    }

    private static ForwardingMode forwarding(String name) {
        return switch (name) {
            case "dnat" -> ForwardingMode.DNAT;
            case "unchanged" -> ForwardingMode.UNCHANGED;
            default -> throw new IllegalArgumentException("forwarding must be dnat or unchanged, not '" + name + "'");
        };
    }

    private static FlowIdentity flowIdentity(String name) {
        return IDENTITY_NAMES.entrySet().stream().filter(e -> e.getValue().equals(name)).map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("flow_identity must be 5-tuple, 3-tuple or 2-tuple, not '" + name + "'"));
    }

    private static MappingSpec table(JsonNode node) {
        JsonFields fields = JsonFields.of(node, "table", "table", TABLE_FIELDS);
        String kind = fields.text("kind", "maglev");
        return switch (kind) {
            case "maglev" -> {
                if (fields.has("points")) {
                    throw new IllegalArgumentException("table.points applies to seed tables; a maglev table takes table.size");
                }
                int size = fields.integer("size", MaglevTable.DEFAULT_SIZE);
                boolean inRange = size >= MIN_MAGLEV_SIZE && size <= MAX_MAGLEV_SIZE;
                try {
                    if (inRange) {
                        yield MappingSpec.maglev(size); // refuses a size that is not prime
                    }
                } catch (IllegalArgumentException notPrime) {
                    // reported below
                }
                throw new IllegalArgumentException("table.size must be a prime from " + MIN_MAGLEV_SIZE + " to " + MAX_MAGLEV_SIZE
                        + ", not " + size + (inRange ? " (not prime)" : ""));
            }
            case "seed" -> {
                if (fields.has("size")) {
                    throw new IllegalArgumentException("table.size applies to maglev tables; a seed table takes table.points");
                }
                int points = fields.integer("points", DEFAULT_SEED_POINTS);
                if (points < 1 || points > MAX_SEED_POINTS) {
                    throw new IllegalArgumentException("table.points must be 1 to " + MAX_SEED_POINTS + ", not " + points);
                }
                yield MappingSpec.seed(points);
            }
            default -> throw new IllegalArgumentException("table.kind must be maglev or seed, not '" + kind + "'");
        };
    }

    /** The normalized form: every field, defaults written out. */
    public ObjectNode toJson() {
        JsonNodeFactory json = JsonNodeFactory.instance;
        ObjectNode node = json.objectNode().put("name", name).put("network", network).put("vip_address", vipText());
        ArrayNode portArray = node.putArray("ports");
        ports.forEach(p -> portArray.addObject().put("protocol", p.protocol().jsonName()).put("port", p.port()));
        ArrayNode backendArray = node.putArray("backends");
        backends.forEach(backendArray::add);
        node.put("forwarding", forwarding == ForwardingMode.DNAT ? "dnat" : "unchanged");
        node.put("flow_identity", IDENTITY_NAMES.get(flowIdentity));
        ObjectNode tableNode = node.putObject("table");
        if (table.kind() == MappingKind.MAGLEV) {
            tableNode.put("kind", "maglev").put("size", table.parameter());
        } else {
            tableNode.put("kind", "seed").put("points", table.parameter());
        }
        node.set("health_check", healthCheck.toJson());
        return node.put("locality", locality).put("idle_timeout_seconds", idleTimeoutSeconds);
    }

    /** The JSON name of a flow identity: {@code 5-tuple}, {@code 3-tuple}, {@code 2-tuple}. */
    public static String jsonName(FlowIdentity identity) {
        return IDENTITY_NAMES.get(identity);
    }
}
