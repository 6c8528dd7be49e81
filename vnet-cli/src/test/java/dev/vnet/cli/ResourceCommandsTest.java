package dev.vnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.controller.Controller;
import dev.vnet.controller.HostChangeSink;
import dev.vnet.controller.api.ApiServer;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.store.InMemoryConfigStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The resource commands run in-process against a controller's API on a Unix socket and on TCP, with a
 * host sink the test tells what to answer when the CLI waits.
 */
class ResourceCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path directory;

    private volatile SyncStatus syncAnswer = new SyncStatus(true, List.of());
    private final List<Long> waitedFor = new ArrayList<>();
    private Controller controller;
    private ApiServer server;
    private String unix;
    private String tcp;

    private record Run(int exit, String out, String err) {
        JsonNode json() throws IOException {
            return JSON.readTree(out);
        }
    }

    @BeforeEach
    void start() throws IOException {
        InMemoryConfigStore store = new InMemoryConfigStore();
        HostChangeSink sink = new HostChangeSink() {
            @Override
            public void publish(long version, Set<String> hosts) {
            }

            @Override
            public SyncStatus awaitApplied(long version, Duration timeout) {
                synchronized (waitedFor) {
                    waitedFor.add(version);
                }
                return syncAnswer;
            }
        };
        controller = new Controller(store, new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()), sink);
        Path socket = directory.resolve("controller.sock");
        server = ApiServer.start(controller, new InetSocketAddress("127.0.0.1", 0), socket);
        unix = "unix:" + socket;
        tcp = "http://127.0.0.1:" + server.tcpAddress().orElseThrow().getPort();
    }

    @AfterEach
    void stop() {
        server.close();
        controller.close();
    }

    private Run vnet(String... arguments) {
        CommandLine commandLine = Vnet.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        int exit = commandLine.execute(arguments);
        return new Run(exit, out.toString(), err.toString());
    }

    /** {@code vnet ARGS --controller <unix socket>} */
    private Run local(String... arguments) {
        List<String> all = new ArrayList<>(List.of(arguments));
        all.add("--controller");
        all.add(unix);
        return vnet(all.toArray(String[]::new));
    }

    private void topology() {
        assertThat(local("host", "create", "h1", "--address", "10.255.0.1").exit()).isZero();
        assertThat(local("network", "create", "blue").exit()).isZero();
        assertThat(local("subnet", "create", "s", "--network", "blue", "--cidr", "10.0.0.0/24").exit()).isZero();
    }

    @Test
    void createsPrintTheResourceAndJsonIsTheApis() throws IOException {
        Run host = local("host", "create", "h1", "--address", "10.255.0.1");
        assertThat(host.exit()).as(host.err()).isZero();
        assertThat(host.out()).containsPattern("(?m)^FIELD +VALUE$").containsPattern("(?m)^address +10\\.255\\.0\\.1$")
                .containsPattern("(?m)^name +h1$");
        local("network", "create", "blue");
        local("subnet", "create", "s", "--network", "blue", "--cidr", "10.0.0.0/24");

        Run vm = local("vm", "create", "web", "--host", "h1", "--network", "blue", "--json");
        assertThat(vm.exit()).as(vm.err()).isZero();
        JsonNode created = vm.json().path("vm");
        assertThat(created.path("name").asText()).isEqualTo("web");
        assertThat(created.path("host").asText()).isEqualTo("h1");
        assertThat(created.path("ip_address").asText()).isEqualTo("10.0.0.2");
        assertThat(created.path("status").asText()).isEqualTo("ACTIVE");

        JsonNode network = local("network", "show", "blue", "--json").json().path("network");
        assertThat(network.path("project_id").asText()).isEqualTo(local("project", "show", "default", "--json").json()
                .path("project").path("id").asText());
        assertThat(vnet("port", "list", "--json", "--controller", tcp).json().path("ports").get(0).path("device_id").asText())
                .isEqualTo(created.path("id").asText());
    }

    @Test
    void listsAreAlignedTablesOverEitherTransport() {
        topology();
        local("vm", "create", "web", "--host", "h1", "--network", "blue");
        local("port", "create", "spare", "--network", "blue", "--ip", "10.0.0.50");
        local("vm", "create", "database", "--host", "h1", "--port", "spare");

        for (String endpoint : new String[]{unix, tcp}) {
            Run vms = vnet("vm", "list", "--controller", endpoint);
            assertThat(vms.exit()).as(vms.err()).isZero();
            List<String> lines = vms.out().lines().toList();
            assertThat(lines).hasSize(3);
            assertThat(lines.getFirst()).matches("ID +NAME +HOST +IP +MAC +PORT +STATUS");
            assertThat(lines.get(1)).matches("\\S{36} +database +h1 +10\\.0\\.0\\.50 +02:4e:0a:00:00:32 +\\S{36} +ACTIVE");
            assertThat(lines.get(2)).matches("\\S{36} +web +h1 +10\\.0\\.0\\.2 +02:4e:0a:00:00:02 +\\S{36} +ACTIVE");
            for (String column : List.of("NAME", "HOST", "IP", "MAC", "PORT", "STATUS")) {
                int at = lines.getFirst().indexOf(column);
                assertThat(lines.get(1).charAt(at - 1)).as(column).isEqualTo(' ');
                assertThat(lines.get(1).charAt(at)).as(column).isNotEqualTo(' ');
                assertThat(lines.get(2).charAt(at)).as(column).isNotEqualTo(' ');
            }
        }
        assertThat(local("network", "list").out()).containsPattern("(?m)^ID +NAME +SUBNETS +SEGMENTATION$")
                .containsPattern("(?m)^\\S{36} +blue +\\S{36} +1$");
        assertThat(local("host", "list").out()).containsPattern("(?m)^\\S{36} +h1 +10\\.255\\.0\\.1 +2$");
        assertThat(local("subnet", "list", "--name", "s").out()).containsPattern("(?m)^\\S{36} +s +\\S{36} +10\\.0\\.0\\.0/24 +10\\.0\\.0\\.1$");
    }

    @Test
    void showAndDeleteTakeNamesAndSayWhatIsMissingOrAmbiguous() {
        topology();
        local("vm", "create", "web", "--host", "h1", "--network", "blue");
        Run show = local("vm", "show", "web");
        assertThat(show.exit()).isZero();
        assertThat(show.out()).containsPattern("(?m)^host +h1$").containsPattern("(?m)^ip_address +10\\.0\\.0\\.2$");

        Run deleted = local("vm", "delete", "web");
        assertThat(deleted.exit()).as(deleted.err()).isZero();
        assertThat(deleted.out()).startsWith("deleted vm web (");
        Run gone = local("vm", "show", "web");
        assertThat(gone.exit()).isEqualTo(1);
        assertThat(gone.err()).isEqualTo("vnet: no vm with id or name 'web'" + System.lineSeparator());

        local("network", "create", "green");
        local("subnet", "create", "s", "--network", "green", "--cidr", "10.1.0.0/24");
        Run ambiguous = local("subnet", "show", "s");
        assertThat(ambiguous.exit()).isEqualTo(1);
        assertThat(ambiguous.err()).contains("vnet: 2 subnets are named 's' (", "); give an id");
        String id = controller.list(dev.vnet.controller.graph.Kind.SUBNET).getFirst().id();
        assertThat(local("subnet", "show", id).exit()).isZero();
    }

    @Test
    void theControllersRefusalIsPrintedAndExitsOne() {
        topology();
        Run outside = local("port", "create", "a", "--network", "blue", "--ip", "10.9.9.9");
        assertThat(outside.exit()).isEqualTo(1);
        assertThat(outside.err()).startsWith("vnet: address 10.9.9.9 is outside subnet s");
        Run unknownHost = local("vm", "create", "v", "--host", "nowhere", "--network", "blue");
        assertThat(unknownHost.exit()).isEqualTo(1);
        assertThat(unknownHost.err()).isEqualTo("vnet: no host nowhere" + System.lineSeparator());

        local("vm", "create", "v", "--host", "h1", "--network", "blue");
        Run inUse = local("network", "delete", "blue");
        assertThat(inUse.exit()).isEqualTo(1);
        assertThat(inUse.err()).contains("is in use", "delete those first, or force");
        assertThat(local("network", "delete", "blue", "--force").exit()).isZero();
        assertThat(local("vm", "show", "v").out()).containsPattern("(?m)^status +DOWN$");

        Run unreachable = vnet("host", "list", "--lab", "no-such-lab");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.err()).contains("vnet: cannot reach the controller at unix:/run/vnet/labs/no-such-lab/controller.sock");
    }

    @Test
    void waitReturnsZeroOnceTheHostsAppliedTheChangeAndThreeNamingThoseThatDidNot() throws IOException {
        topology();
        Run applied = local("vm", "create", "web", "--host", "h1", "--network", "blue", "--wait", "--json");
        assertThat(applied.exit()).as(applied.err()).isZero();
        assertThat(waitedFor).hasSize(1);

        syncAnswer = new SyncStatus(false, List.of("h1", "h2"));
        Run pending = local("vm", "create", "db", "--host", "h1", "--network", "blue", "--wait", "--timeout", "5");
        assertThat(pending.exit()).isEqualTo(3);
        assertThat(pending.err()).contains("vnet: not applied within 5 s by hosts h1, h2");
        assertThat(pending.out()).containsPattern("(?m)^name +db$"); // the change itself was made and is shown

        Run deletePending = local("vm", "delete", "db", "--wait");
        assertThat(deletePending.exit()).isEqualTo(3);
        assertThat(waitedFor).hasSize(3);
        assertThat(waitedFor.get(2)).isEqualTo(controller.version());

        assertThat(local("vm", "list").exit()).isZero(); // no --wait: nothing is waited for
        assertThat(waitedFor).hasSize(3);
    }

    @Test
    void misuseIsAUsageError() {
        Run both = vnet("host", "list", "--lab", "x", "--controller", unix);
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("give --controller or --lab, not both");
        assertThat(local("vm", "create", "v", "--host", "h1").err()).contains("Missing required argument");
        assertThat(local("vm", "create", "v", "--host", "h1", "--network", "a", "--port", "b").err()).contains("mutually exclusive");
        Run timeout = local("host", "create", "h9", "--address", "10.255.0.9", "--wait", "--timeout", "500");
        assertThat(timeout.exit()).isEqualTo(2);
        assertThat(timeout.err()).contains("--timeout must be 0 to 120 seconds");
        assertThat(controller.list(dev.vnet.controller.graph.Kind.HOST)).isEmpty();
    }

    @Test
    void loadBalancersAreCreatedListedShownAndDeleted() throws IOException {
        assertThat(local("host", "create", "h1", "--address", "10.255.0.1", "--location", "zone-a").exit()).isZero();
        local("network", "create", "blue");
        local("subnet", "create", "s", "--network", "blue", "--cidr", "10.0.0.0/24");
        local("vm", "create", "vm1", "--host", "h1", "--network", "blue");
        local("vm", "create", "vm2", "--host", "h1", "--network", "blue");
        assertThat(local("host", "show", "h1").out()).containsPattern("(?m)^location +zone-a$");

        Run created = local("lb", "create", "web", "--network", "blue", "--vip", "198.51.100.10", "--port", "tcp:80", "--port", "UDP:53",
                "--backend", "vm1", "--backend", "vm2", "--mode", "unchanged", "--flow-identity", "3-tuple", "--points", "50",
                "--health", "http", "--health-port", "8080", "--health-path", "/healthz", "--expect-status", "204", "--interval-ms", "2000",
                "--timeout-ms", "700", "--up", "3", "--down", "4", "--locality", "--idle-timeout", "60", "--json");
        assertThat(created.exit()).as(created.err()).isZero();
        JsonNode lb = created.json().path("loadbalancer");
        assertThat(lb.path("ports")).isEqualTo(JSON.readTree("[{\"protocol\":\"tcp\",\"port\":80},{\"protocol\":\"udp\",\"port\":53}]"));
        assertThat(lb.path("forwarding").asText()).isEqualTo("unchanged");
        assertThat(lb.path("flow_identity").asText()).isEqualTo("3-tuple");
        assertThat(lb.path("table")).isEqualTo(JSON.readTree("{\"kind\":\"seed\",\"points\":50}"));
        assertThat(lb.path("health_check")).isEqualTo(JSON.readTree("{\"type\":\"http\",\"port\":8080,\"path\":\"/healthz\","
                + "\"expected_status\":204,\"interval_ms\":2000,\"timeout_ms\":700,\"up_threshold\":3,\"down_threshold\":4}"));
        assertThat(lb.path("locality").asBoolean()).isTrue();
        assertThat(lb.path("idle_timeout_seconds").asInt()).isEqualTo(60);
        assertThat(lb.path("members").get(1).path("location").asText()).isEqualTo("zone-a");

        Run defaults = local("lb", "create", "dns", "--network", "blue", "--vip", "198.51.100.53", "--port", "udp:53", "--backend", "vm2");
        assertThat(defaults.exit()).as(defaults.err()).isZero();
        assertThat(defaults.out()).containsPattern("(?m)^forwarding +dnat$").containsPattern("(?m)^table +\\{\"kind\":\"maglev\",\"size\":65537\\}$");

        List<String> lines = local("lb", "list").out().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.getFirst()).matches("ID +NAME +VIP +PORTS +MODE +MEMBERS +BACKENDS");
        assertThat(lines.get(1)).matches("\\S{36} +dns +198\\.51\\.100\\.53 +udp:53 +dnat +1/1 +vm2");
        assertThat(lines.get(2)).matches("\\S{36} +web +198\\.51\\.100\\.10 +tcp:80,udp:53 +unchanged +2/2 +vm1,vm2");
        assertThat(local("lb", "show", "web").out()).containsPattern("(?m)^vip_address +198\\.51\\.100\\.10$");
        assertThat(local("lb", "list", "--json").json().path("loadbalancers")).hasSize(2);

        Run deleted = local("lb", "delete", "web");
        assertThat(deleted.exit()).as(deleted.err()).isZero();
        assertThat(deleted.out()).startsWith("deleted loadbalancer web (");
        assertThat(controller.loadBalancers()).extracting(l -> l.spec().name()).containsExactly("dns");
    }

    @Test
    void invalidLoadBalancerOptionsAreRefusedWithTheControllersReason() {
        topology();
        local("vm", "create", "vm1", "--host", "h1", "--network", "blue");
        Run badSize = local("lb", "create", "web", "--network", "blue", "--vip", "198.51.100.10", "--port", "tcp:80", "--backend", "vm1",
                "--table-size", "1000");
        assertThat(badSize.exit()).isEqualTo(1);
        assertThat(badSize.err()).isEqualTo("vnet: invalid load balancer: table.size must be a prime from 7 to 1000003, not 1000 (not prime)"
                + System.lineSeparator());
        Run badMode = local("lb", "create", "web", "--network", "blue", "--vip", "198.51.100.10", "--port", "tcp:80", "--backend", "vm1",
                "--mode", "snat");
        assertThat(badMode.err()).contains("forwarding must be dnat or unchanged, not 'snat'");
        Run notABackend = local("lb", "create", "web", "--network", "blue", "--vip", "198.51.100.10", "--port", "tcp:80", "--backend", "vm9");
        assertThat(notABackend.err()).contains("backends[0]: vm vm9 is not a VM of network blue");
        Run badPort = local("lb", "create", "web", "--network", "blue", "--vip", "198.51.100.10", "--port", "80", "--backend", "vm1");
        assertThat(badPort.exit()).isEqualTo(2);
        assertThat(badPort.err()).contains("--port must be PROTOCOL:PORT, e.g. tcp:80, not '80'");
        assertThat(local("lb", "create", "web", "--network", "blue", "--vip", "198.51.100.10", "--backend", "vm1").err())
                .contains("Missing required option: '--port=PROTOCOL:PORT'");
        assertThat(controller.loadBalancers()).isEmpty();

        local("lb", "create", "web", "--network", "blue", "--vip", "198.51.100.10", "--port", "tcp:80", "--backend", "vm1");
        Run force = local("lb", "delete", "web", "--force");
        assertThat(force.exit()).isEqualTo(2);
        assertThat(force.err()).contains("--force does not apply");
        Run networkInUse = local("network", "delete", "blue");
        assertThat(networkInUse.exit()).isEqualTo(1);
        assertThat(networkInUse.err()).contains("network blue is in use by load balancer web");
    }

    @Test
    void helpDescribesTheResourceCommands() {
        assertThat(vnet("--help").out()).contains("network", "subnet", "port", "vm", "host", "project");
        assertThat(vnet("network", "--help").out()).contains("create", "list", "show", "delete");
        assertThat(vnet("network", "list", "--help").out()).contains("Lists the networks.", "--controller", "VNET_CONTROLLER", "--lab", "--json");
        assertThat(vnet("vm", "delete", "--help").out()).contains("Deletes a vm", "--force", "--wait", "--timeout");
        assertThat(vnet("vm", "create", "--help").out()).contains("--host", "--network", "--port", "--project");
        assertThat(vnet("--help").out()).contains("lb");
        assertThat(vnet("lb", "create", "--help").out()).contains("--vip", "--port", "--backend", "--mode", "--flow-identity", "--table",
                "--table-size", "--points", "--health", "--health-port", "--health-path", "--expect-status", "--interval-ms",
                "--timeout-ms", "--up", "--down", "--locality", "--idle-timeout");
        assertThat(vnet("host", "create", "--help").out()).contains("--location");
    }
}
