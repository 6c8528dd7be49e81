package dev.vnet.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.gateway.hashing.MappingSpec;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoadBalancerSpecTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String FULL = """
            {"name":"web","network":"blue","vip_address":"198.51.100.10","ports":[{"protocol":"tcp","port":80}],
             "backends":["vm1","vm2"],"forwarding":"dnat","flow_identity":"5-tuple","table":{"kind":"maglev","size":65537},
             "health_check":{"type":"http","port":80,"path":"/healthz","expected_status":200,"interval_ms":1000,
                             "timeout_ms":500,"up_threshold":2,"down_threshold":3},
             "locality":false,"idle_timeout_seconds":300}""";

    private static final String MINIMAL = """
            {"name":"web","network":"blue","vip_address":"198.51.100.10","ports":[{"protocol":"tcp","port":80}],
             "backends":["vm1","vm2"]}""";

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theDocumentedExampleReadsAsWrittenAndWritesBackTheSame() {
        LoadBalancerSpec spec = LoadBalancerSpec.fromJson(json(FULL));
        assertThat(spec.name()).isEqualTo("web");
        assertThat(spec.network()).isEqualTo("blue");
        assertThat(spec.vipAddress()).isEqualTo(Ipv4Address.parse("198.51.100.10"));
        assertThat(spec.ports()).containsExactly(ListenerPort.tcp(80));
        assertThat(spec.backends()).containsExactly("vm1", "vm2");
        assertThat(spec.forwarding()).isEqualTo(ForwardingMode.DNAT);
        assertThat(spec.flowIdentity()).isEqualTo(FlowIdentity.FIVE_TUPLE);
        assertThat(spec.table()).isEqualTo(MappingSpec.maglev(65_537));
        assertThat(spec.healthCheck()).isEqualTo(new HealthCheckSpec(HealthCheckType.HTTP, 80, "/healthz", 200, 1000, 500, 2, 3));
        assertThat(spec.locality()).isFalse();
        assertThat(spec.idleTimeoutSeconds()).isEqualTo(300);
        assertThat(spec.toJson()).isEqualTo(json(FULL));
        assertThat(LoadBalancerSpec.fromJson(FULL)).isEqualTo(spec);
    }

    @Test
    void omittedOptionsTakeTheirDefaultsAndToJsonWritesThem() {
        LoadBalancerSpec spec = LoadBalancerSpec.fromJson(json(MINIMAL));
        assertThat(spec).isEqualTo(LoadBalancerSpec.withDefaults("web", "blue", Ipv4Address.parse("198.51.100.10"),
                List.of(ListenerPort.tcp(80)), List.of("vm1", "vm2")));
        JsonNode normalized = spec.toJson();
        assertThat(normalized.path("forwarding").asText()).isEqualTo("dnat");
        assertThat(normalized.path("flow_identity").asText()).isEqualTo("5-tuple");
        assertThat(normalized.path("table")).isEqualTo(json("{\"kind\":\"maglev\",\"size\":65537}"));
        assertThat(normalized.path("health_check")).isEqualTo(json(
                "{\"type\":\"tcp\",\"port\":80,\"interval_ms\":1000,\"timeout_ms\":500,\"up_threshold\":2,\"down_threshold\":3}"));
        assertThat(normalized.path("locality").asBoolean(true)).isFalse();
        assertThat(normalized.path("idle_timeout_seconds").asInt()).isEqualTo(300);
        assertThat(normalized.properties()).extracting(e -> e.getKey())
                .containsExactlyInAnyOrderElementsOf(LoadBalancerSpec.FIELD_NAMES);
    }

    @Test
    void partialTablesAndHealthChecksAreFilledIn() {
        LoadBalancerSpec seed = LoadBalancerSpec.fromJson(with(MINIMAL, "table", "{\"kind\":\"seed\"}"));
        assertThat(seed.table()).isEqualTo(MappingSpec.seed(100));
        assertThat(LoadBalancerSpec.fromJson(with(MINIMAL, "table", "{\"size\":251}")).table()).isEqualTo(MappingSpec.maglev(251));
        HealthCheckSpec http = LoadBalancerSpec.fromJson(with(MINIMAL, "health_check", "{\"type\":\"http\"}")).healthCheck();
        assertThat(http).isEqualTo(HealthCheckSpec.http(80, "/", 200));
        HealthCheckSpec icmp = LoadBalancerSpec.fromJson(with(MINIMAL, "health_check", "{\"type\":\"icmp\",\"interval_ms\":2000}")).healthCheck();
        assertThat(icmp.port()).isZero();
        assertThat(icmp.intervalMillis()).isEqualTo(2000);
        assertThat(icmp.toJson().has("port")).isFalse();
    }

    @Test
    void theDefaultHealthCheckProbesTheFirstTcpPortOrPingsAUdpOnlyService() {
        LoadBalancerSpec mixed = LoadBalancerSpec.fromJson(with(MINIMAL, "ports", "[{\"protocol\":\"udp\",\"port\":53},{\"protocol\":\"tcp\",\"port\":8053}]"));
        assertThat(mixed.healthCheck()).isEqualTo(HealthCheckSpec.tcp(8053));
        LoadBalancerSpec udpOnly = LoadBalancerSpec.fromJson(with(MINIMAL, "ports", "[{\"protocol\":\"udp\",\"port\":53}]"));
        assertThat(udpOnly.healthCheck()).isEqualTo(HealthCheckSpec.icmp());
        LoadBalancerSpec udpTcpCheck = LoadBalancerSpec.fromJson(with(with(MINIMAL, "ports", "[{\"protocol\":\"udp\",\"port\":53}]"),
                "health_check", "{\"type\":\"tcp\"}"));
        assertThat(udpTcpCheck.healthCheck()).isEqualTo(HealthCheckSpec.tcp(53));
    }

    @Test
    void seededRandomSpecsSurviveTheRoundTrip() {
        Random random = new Random(20_240_707L);
        int[] primes = {7, 11, 251, 4099, 65_537, 1_000_003};
        for (int i = 0; i < 2_000; i++) {
            List<ListenerPort> ports = new ArrayList<>(new LinkedHashSet<>(Stream.generate(() -> new ListenerPort(
                    random.nextBoolean() ? Protocol.TCP : Protocol.UDP, 1 + random.nextInt(65_535))).limit(1 + random.nextInt(5)).toList()));
            int backendCount = 1 + random.nextInt(7);
            List<String> backends = new ArrayList<>();
            for (int b = 0; b < backendCount; b++) {
                backends.add("vm-" + i + "." + b);
            }
            MappingSpec table = random.nextBoolean() ? MappingSpec.maglev(primes[random.nextInt(primes.length)])
                    : MappingSpec.seed(1 + random.nextInt(10_000));
            int interval = 100 + random.nextInt(600_000 - 100 + 1);
            int timeout = 50 + random.nextInt(interval - 50);
            HealthCheckType type = HealthCheckType.values()[random.nextInt(3)];
            HealthCheckSpec health = new HealthCheckSpec(type, type == HealthCheckType.ICMP ? 0 : 1 + random.nextInt(65_535),
                    type == HealthCheckType.HTTP ? "/h" + random.nextInt(1000) : null,
                    type == HealthCheckType.HTTP ? 100 + random.nextInt(500) : 0, interval, timeout,
                    1 + random.nextInt(100), 1 + random.nextInt(100));
            int vip;
            do {
                vip = random.nextInt();
            } while ((vip >>> 24) == 0 || (vip >>> 24) == 127 || (vip >>> 24) >= 224);
            LoadBalancerSpec spec = new LoadBalancerSpec("lb" + i, "net-" + random.nextInt(5), vip, ports, backends,
                    ForwardingMode.values()[random.nextInt(2)], FlowIdentity.values()[random.nextInt(3)], table, health,
                    random.nextBoolean(), 1 + random.nextInt(86_400));

            JsonNode written = spec.toJson();
            assertThat(LoadBalancerSpec.fromJson(written)).as(written.toString()).isEqualTo(spec);
            assertThat(LoadBalancerSpec.fromJson(written.toString()).toJson()).isEqualTo(written);
        }
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(with(MINIMAL, "vip", "\"1.2.3.4\""), "unknown field 'vip'; known fields: backends, flow_identity"),
                Arguments.of(with(MINIMAL, "health_check", "{\"kind\":\"tcp\"}"), "unknown field 'kind' in health_check"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"tcp\",\"port\":80,\"x\":1}]"), "unknown field 'x' in ports[0]"),
                Arguments.of(without(MINIMAL, "name"), "name is required"),
                Arguments.of(with(MINIMAL, "name", "\"no spaces\""), "name 'no spaces' is invalid"),
                Arguments.of(without(MINIMAL, "network"), "network is required"),
                Arguments.of(without(MINIMAL, "vip_address"), "vip_address is required"),
                Arguments.of(with(MINIMAL, "vip_address", "\"198.51.100\""), "vip_address '198.51.100' is not an IPv4 address"),
                Arguments.of(with(MINIMAL, "vip_address", "\"0.1.2.3\""), "vip_address 0.1.2.3 is in 0.0.0.0/8"),
                Arguments.of(with(MINIMAL, "vip_address", "\"127.0.0.1\""), "vip_address 127.0.0.1 is a loopback address"),
                Arguments.of(with(MINIMAL, "vip_address", "\"224.0.0.5\""), "vip_address 224.0.0.5 is a multicast address"),
                Arguments.of(with(MINIMAL, "vip_address", "\"255.255.255.255\""), "is the broadcast address"),
                Arguments.of(with(MINIMAL, "vip_address", "\"240.0.0.1\""), "is in the reserved 240.0.0.0/4"),
                Arguments.of(with(MINIMAL, "vip_address", "3325256714"), "vip_address must be a string"),
                Arguments.of(without(MINIMAL, "ports"), "ports: a load balancer needs at least one listener port"),
                Arguments.of(with(MINIMAL, "ports", "[]"), "ports: a load balancer needs at least one listener port"),
                Arguments.of(with(MINIMAL, "ports", "{\"protocol\":\"tcp\",\"port\":80}"), "ports must be an array"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"tcp\",\"port\":0}]"), "ports[0].port must be 1 to 65535, not 0"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"tcp\",\"port\":65536}]"), "ports[0].port must be 1 to 65535, not 65536"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"tcp\",\"port\":\"80\"}]"), "ports[0].port must be a whole number"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"tcp\",\"port\":80.5}]"), "ports[0].port must be a whole number"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"tcp\"}]"), "ports[0].port is required"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"sctp\",\"port\":80}]"), "ports[0].protocol must be tcp or udp, not 'sctp'"),
                Arguments.of(with(MINIMAL, "ports", "[{\"protocol\":\"tcp\",\"port\":80},{\"protocol\":\"tcp\",\"port\":80}]"),
                        "ports[1]: tcp:80 is listed twice"),
                Arguments.of(with(MINIMAL, "ports", "[80]"), "ports[0] must be a JSON object"),
                Arguments.of(without(MINIMAL, "backends"), "backends is required"),
                Arguments.of(with(MINIMAL, "backends", "[]"), "backends: a load balancer needs at least one backend VM"),
                Arguments.of(with(MINIMAL, "backends", "[\"vm1\",\"vm1\"]"), "backends[1]: vm vm1 is listed twice"),
                Arguments.of(with(MINIMAL, "backends", "[\"vm1\",7]"), "backends[1] must be a string"),
                Arguments.of(with(MINIMAL, "backends", "[\"\"]"), "backends[0] '' is invalid"),
                Arguments.of(with(MINIMAL, "forwarding", "\"snat\""), "forwarding must be dnat or unchanged, not 'snat'"),
                Arguments.of(with(MINIMAL, "flow_identity", "\"4-tuple\""), "flow_identity must be 5-tuple, 3-tuple or 2-tuple, not '4-tuple'"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"ring\"}"), "table.kind must be maglev or seed, not 'ring'"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"maglev\",\"size\":65536}"), "table.size must be a prime from 7 to 1000003, not 65536 (not prime)"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"maglev\",\"size\":5}"), "table.size must be a prime from 7 to 1000003, not 5"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"maglev\",\"size\":1000033}"), "not 1000033"),
                Arguments.of(with(with(MINIMAL, "backends", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]"), "table", "{\"size\":7}"),
                        "table.size 7 is smaller than the number of backends (8)"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"maglev\",\"points\":10}"), "table.points applies to seed tables"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"seed\",\"size\":251}"), "table.size applies to maglev tables"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"seed\",\"points\":0}"), "table.points must be 1 to 10000, not 0"),
                Arguments.of(with(MINIMAL, "table", "{\"kind\":\"seed\",\"points\":10001}"), "table.points must be 1 to 10000, not 10001"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"udp\"}"), "health_check.type must be icmp, tcp or http, not 'udp'"),
                Arguments.of(with(MINIMAL, "health_check", "{\"up_threshold\":0}"), "health_check.up_threshold must be 1 to 100, not 0"),
                Arguments.of(with(MINIMAL, "health_check", "{\"down_threshold\":101}"), "health_check.down_threshold must be 1 to 100, not 101"),
                Arguments.of(with(MINIMAL, "health_check", "{\"interval_ms\":99}"), "health_check.interval_ms must be 100 to 600000, not 99"),
                Arguments.of(with(MINIMAL, "health_check", "{\"interval_ms\":600001}"), "health_check.interval_ms must be 100 to 600000, not 600001"),
                Arguments.of(with(MINIMAL, "health_check", "{\"timeout_ms\":49}"), "health_check.timeout_ms must be at least 50"),
                Arguments.of(with(MINIMAL, "health_check", "{\"interval_ms\":500,\"timeout_ms\":500}"),
                        "health_check.timeout_ms must be at least 50 and less than interval_ms (500), not 500"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"http\",\"path\":\"healthz\"}"), "health_check.path must start with '/', not 'healthz'"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"http\",\"path\":\"/a b\"}"), "health_check.path may hold only printable ASCII"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"http\",\"expected_status\":99}"),
                        "health_check.expected_status must be an HTTP status, 100 to 599, not 99"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"http\",\"expected_status\":600}"), "not 600"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"tcp\",\"path\":\"/\"}"), "health_check.path applies only to http checks"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"tcp\",\"expected_status\":200}"), "health_check.expected_status applies only to http checks"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"icmp\",\"port\":80}"), "health_check.port does not apply to icmp checks"),
                Arguments.of(with(MINIMAL, "health_check", "{\"type\":\"tcp\",\"port\":0}"), "health_check.port must be 1 to 65535, not 0"),
                Arguments.of(with(MINIMAL, "health_check", "\"tcp\""), "health_check must be a JSON object"),
                Arguments.of(with(MINIMAL, "locality", "\"yes\""), "locality must be true or false"),
                Arguments.of(with(MINIMAL, "idle_timeout_seconds", "0"), "idle_timeout_seconds must be 1 to 86400, not 0"),
                Arguments.of(with(MINIMAL, "idle_timeout_seconds", "86401"), "idle_timeout_seconds must be 1 to 86400, not 86401"),
                Arguments.of(with(MINIMAL, "idle_timeout_seconds", "9999999999"), "idle_timeout_seconds must be a whole number"),
                Arguments.of(with(MINIMAL, "forwarding", "null"), "forwarding must not be null"),
                Arguments.of(json("[]"), "a load balancer must be a JSON object"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("refusals")
    void invalidOptionsAreRefusedNamingTheField(JsonNode document, String reason) {
        assertThatThrownBy(() -> LoadBalancerSpec.fromJson(document)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(reason);
    }

    @Test
    void jsonTextWithADuplicateFieldIsRefused() {
        assertThatThrownBy(() -> LoadBalancerSpec.fromJson("{\"name\":\"a\",\"name\":\"b\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Duplicate field 'name'");
    }

    @Test
    void theConstructorRefusesWhatFromJsonRefuses() {
        LoadBalancerSpec valid = LoadBalancerSpec.fromJson(json(MINIMAL));
        assertThatThrownBy(() -> new LoadBalancerSpec(valid.name(), valid.network(), valid.vipAddress(), valid.ports(), List.of(),
                valid.forwarding(), valid.flowIdentity(), valid.table(), valid.healthCheck(), false, 300)).hasMessageContaining("backends");
        assertThatThrownBy(() -> new LoadBalancerSpec(valid.name(), valid.network(), valid.vipAddress(), valid.ports(), valid.backends(),
                valid.forwarding(), valid.flowIdentity(), valid.table().withSeed(1), valid.healthCheck(), false, 300))
                .hasMessageContaining("hash seed");
        assertThatThrownBy(() -> valid.ports().add(ListenerPort.udp(1))).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void theViewReadsTheSpecAndMembersAndIgnoresOtherFields() {
        ObjectNode view = (ObjectNode) new LoadBalancer("id-1", "net-1", LoadBalancerSpec.fromJson(json(FULL)),
                List.of(new LoadBalancer.Member("vm1", "vm-id-1", Ipv4Address.parse("10.0.0.2"), "h1", "zone-a"))).toJson();
        assertThat(view.path("members").get(0)).isEqualTo(json(
                "{\"vm\":\"vm1\",\"vm_id\":\"vm-id-1\",\"address\":\"10.0.0.2\",\"host\":\"h1\",\"location\":\"zone-a\"}"));
        view.put("something_new", 1);
        LoadBalancer read = LoadBalancer.fromJson(view);
        assertThat(read.id()).isEqualTo("id-1");
        assertThat(read.networkId()).isEqualTo("net-1");
        assertThat(read.spec()).isEqualTo(LoadBalancerSpec.fromJson(json(FULL)));
        assertThat(read.members()).containsExactly(new LoadBalancer.Member("vm1", "vm-id-1", Ipv4Address.parse("10.0.0.2"), "h1", "zone-a"));
    }

    /** The document with one field set (added or replaced) to the JSON {@code value}. */
    static JsonNode with(String document, String field, String value) {
        return with(json(document), field, value);
    }

    static JsonNode with(JsonNode document, String field, String value) {
        ObjectNode copy = document.deepCopy();
        copy.set(field, json(value));
        return copy;
    }

    static JsonNode without(String document, String field) {
        ObjectNode copy = json(document).deepCopy();
        copy.remove(field);
        return copy;
    }

    @Test
    void everyFieldNameIsOneOfTheDocumentedOnes() {
        assertThat(LoadBalancerSpec.FIELD_NAMES).isEqualTo(Set.of("name", "network", "vip_address", "ports", "backends",
                "forwarding", "flow_identity", "table", "health_check", "locality", "idle_timeout_seconds"));
    }
}
