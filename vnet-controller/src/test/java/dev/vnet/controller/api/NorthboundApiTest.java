package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vnet.controller.api.client.ApiException;
import dev.vnet.controller.api.client.ApiResponse;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.graph.Kind;
import dev.vnet.registry.Vm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static dev.vnet.controller.api.ApiFixture.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The API's resources, their Neutron fields, idempotent creates, deletes, versions and waiting. */
class NorthboundApiTest {
    private ApiFixture api;

    @BeforeEach
    void start() throws IOException {
        api = new ApiFixture();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    @Test
    void networksSubnetsAndPortsCarryNeutronsFields() throws IOException {
        ApiFixture.Ids ids = api.basics();
        JsonNode network = api.client.get("/v2.0/networks/" + ids.network()).body().path("network");
        assertThat(network.path("name").asText()).isEqualTo("blue");
        assertThat(network.path("project_id").asText()).isEqualTo(ids.project());
        assertThat(network.path("status").asText()).isEqualTo("ACTIVE");
        assertThat(network.path("admin_state_up").asBoolean()).isTrue();
        assertThat(network.path("subnets")).extracting(JsonNode::asText).containsExactly(ids.subnet());
        assertThat(network.path("provider:segmentation_id").asLong()).isEqualTo(1);

        JsonNode subnet = api.client.get("/v2.0/subnets/" + ids.subnet()).body().path("subnet");
        assertThat(subnet.path("cidr").asText()).isEqualTo("10.0.0.0/24");
        assertThat(subnet.path("gateway_ip").asText()).isEqualTo("10.0.0.1");
        assertThat(subnet.path("ip_version").asInt()).isEqualTo(4);
        assertThat(subnet.path("network_id").asText()).isEqualTo(ids.network());
        assertThat(subnet.path("project_id").asText()).isEqualTo(ids.project());

        ApiResponse created = api.client.post("/v2.0/ports", ApiFixture.JSON.readTree(
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.9\"}]}}"));
        assertThat(created.status()).isEqualTo(201);
        JsonNode port = created.body().path("port");
        assertThat(port.path("network_id").asText()).isEqualTo(ids.network());
        assertThat(port.path("project_id").asText()).isEqualTo(ids.project());
        assertThat(port.path("mac_address").asText()).isEqualTo("02:4e:0a:00:00:09");
        assertThat(port.path("fixed_ips").get(0).path("subnet_id").asText()).isEqualTo(ids.subnet());
        assertThat(port.path("fixed_ips").get(0).path("ip_address").asText()).isEqualTo("10.0.0.9");
        assertThat(port.path("device_id").asText()).isEmpty();
        assertThat(port.path("device_owner").asText()).isEmpty();
        assertThat(port.path("binding:host_id").asText()).isEmpty();
        assertThat(port.path("status").asText()).isEqualTo("DOWN");

        JsonNode lowest = api.client.post("/v2.0/ports", body("port", "name", "b", "network_id", ids.network())).body().path("port");
        assertThat(lowest.path("fixed_ips").get(0).path("ip_address").asText()).isEqualTo("10.0.0.2");
        assertThat(api.client.get("/v2.0/ports?network_id=" + ids.network()).body().path("ports")).hasSize(2);
        assertThat(api.client.get("/v2.0/ports?name=b").body().path("ports")).extracting(p -> p.path("id").asText())
                .containsExactly(lowest.path("id").asText());
        assertThat(api.client.get("/v2.0/subnets?network_id=nothing").body().path("subnets")).isEmpty();
    }

    @Test
    void aVmGivenANetworkGetsAPortNamedAfterItAndTheRegistryHasIt() {
        ApiFixture.Ids ids = api.basics();
        ApiResponse created = api.client.post("/v2.0/vms", body("vm", "name", "web", "host", "h1", "network_id", ids.network()));
        assertThat(created.status()).isEqualTo(201);
        JsonNode vm = created.body().path("vm");
        assertThat(vm.path("host").asText()).isEqualTo("h1");
        assertThat(vm.path("host_id").asText()).isEqualTo(ids.host());
        assertThat(vm.path("project_id").asText()).isEqualTo(ids.project());
        assertThat(vm.path("ip_address").asText()).isEqualTo("10.0.0.2");
        assertThat(vm.path("mac_address").asText()).isEqualTo("02:4e:0a:00:00:02");
        assertThat(vm.path("host_port").asInt()).isEqualTo(47901);
        assertThat(vm.path("status").asText()).isEqualTo("ACTIVE");

        JsonNode port = api.client.get("/v2.0/ports/" + vm.path("port_id").asText()).body().path("port");
        assertThat(port.path("name").asText()).isEqualTo("web");
        assertThat(port.path("device_id").asText()).isEqualTo(vm.path("id").asText());
        assertThat(port.path("device_owner").asText()).isEqualTo("compute:vnet");
        assertThat(port.path("binding:host_id").asText()).isEqualTo("h1");
        assertThat(port.path("status").asText()).isEqualTo("ACTIVE");

        Vm registered = api.controller.registry().vms().getFirst();
        assertThat(registered.name()).isEqualTo(vm.path("id").asText());
        assertThat(registered.host()).isEqualTo("h1");
        assertThat(api.published.getLast()).isEqualTo(new ApiFixture.Published(created.version().orElseThrow(), Set.of("h1")));

        JsonNode host = api.client.get("/v2.0/hosts/h1").body().path("host");
        assertThat(host.path("id").asText()).isEqualTo(ids.host());
        assertThat(host.path("vm_ids")).extracting(JsonNode::asText).containsExactly(vm.path("id").asText());
    }

    @Test
    void aVmCanTakeAnExistingPortAndAHostById() {
        ApiFixture.Ids ids = api.basics();
        String port = api.client.post("/v2.0/ports", body("port", "name", "nic", "network_id", ids.network())).body()
                .path("port").path("id").asText();
        JsonNode vm = api.client.post("/v2.0/vms", body("vm", "name", "db", "host", ids.host(), "port_id", port)).body().path("vm");
        assertThat(vm.path("port_id").asText()).isEqualTo(port);
        assertThat(vm.path("host").asText()).isEqualTo("h1");
    }

    @Test
    void createsAreIdempotentByNameAndTheSameNameWithAnotherSpecificationIs409() {
        ApiFixture.Ids ids = api.basics();
        for (String[] request : new String[][]{
                {"/v2.0/projects", "{\"project\": {\"name\": \"p\"}}"},
                {"/v2.0/hosts", "{\"host\": {\"name\": \"h1\", \"address\": \"10.255.0.1\"}}"},
                {"/v2.0/networks", "{\"network\": {\"name\": \"blue\", \"project_id\": \"" + ids.project() + "\"}}"},
                {"/v2.0/subnets", "{\"subnet\": {\"name\": \"s\", \"network_id\": \"" + ids.network() + "\", \"cidr\": \"10.0.0.0/24\"}}"}}) {
            long before = api.controller.version();
            var again = api.post(request[0], request[1]);
            assertThat(again.statusCode()).as(request[0]).isEqualTo(200);
            assertThat(api.controller.version()).as(request[0]).isEqualTo(before);
        }
        assertThat(api.controller.list(Kind.SUBNET)).hasSize(1);

        String portBody = "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.7\"}]}}";
        var first = api.post("/v2.0/ports", portBody);
        var second = api.post("/v2.0/ports", portBody);
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(ApiFixture.json(second).path("port").path("id")).isEqualTo(ApiFixture.json(first).path("port").path("id"));

        String vmBody = "{\"vm\": {\"name\": \"v\", \"host\": \"h1\", \"network_id\": \"" + ids.network() + "\"}}";
        var vm = api.post("/v2.0/vms", vmBody);
        long afterVm = api.controller.version();
        var vmAgain = api.post("/v2.0/vms", vmBody);
        assertThat(vm.statusCode()).isEqualTo(201);
        assertThat(vmAgain.statusCode()).isEqualTo(200);
        assertThat(ApiFixture.json(vmAgain).path("vm").path("id")).isEqualTo(ApiFixture.json(vm).path("vm").path("id"));
        assertThat(api.controller.version()).isEqualTo(afterVm);
        assertThat(api.controller.list(Kind.VM)).hasSize(1);
        assertThat(api.controller.list(Kind.PORT)).hasSize(2);

        String portId = ApiFixture.json(vm).path("vm").path("port_id").asText();
        var byPort = api.post("/v2.0/vms", "{\"vm\": {\"name\": \"v\", \"host\": \"h1\", \"port_id\": \"" + portId + "\"}}");
        assertThat(byPort.statusCode()).isEqualTo(200);

        assertThat(api.post("/v2.0/ports", portBody.replace("10.0.0.7", "10.0.0.8")).statusCode()).isEqualTo(409);
    }

    @Test
    void aNetworkWithoutAProjectGoesIntoTheDefaultProject() {
        JsonNode network = api.client.post("/v2.0/networks", body("network", "name", "red")).body().path("network");
        JsonNode projects = api.client.get("/v2.0/projects?name=default").body().path("projects");
        assertThat(projects).hasSize(1);
        assertThat(network.path("project_id").asText()).isEqualTo(projects.get(0).path("id").asText());
        api.client.post("/v2.0/networks", body("network", "name", "green"));
        assertThat(api.client.get("/v2.0/projects").body().path("projects")).hasSize(1);
    }

    @Test
    void deletesAnswer204WithAVersionAndRefuseWhatIsInUseUnlessForced() {
        ApiFixture.Ids ids = api.basics();
        api.client.post("/v2.0/vms", body("vm", "name", "v", "host", "h1", "network_id", ids.network()));

        ApiException inUse = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
                () -> api.client.delete("/v2.0/networks/" + ids.network()));
        assertThat(inUse.status()).isEqualTo(409);
        assertThat(inUse.type()).isEqualTo("InUse");
        assertThat(inUse.getMessage()).contains("is in use", "vm v");

        long before = api.controller.version();
        ApiResponse deleted = api.client.delete("/v2.0/networks/" + ids.network() + "?force=true");
        assertThat(deleted.status()).isEqualTo(204);
        assertThat(deleted.body().isMissingNode()).isTrue();
        assertThat(deleted.version().orElseThrow()).isGreaterThan(before);
        assertThat(api.client.get("/v2.0/networks").body().path("networks")).isEmpty();
        JsonNode vm = api.client.get("/v2.0/vms").body().path("vms").get(0);
        assertThat(vm.path("status").asText()).isEqualTo("DOWN");
        assertThat(vm.path("port_id").isNull()).isTrue();
        assertThat(api.controller.registry().vms()).isEmpty();

        assertThat(api.client.delete("/v2.0/hosts/h1?force=true").status()).isEqualTo(204);
        assertThat(api.client.get("/v2.0/vms").body().path("vms")).isEmpty();
        assertThatThrownBy(() -> api.client.get("/v2.0/hosts/h1")).isInstanceOf(ApiException.class).hasMessage("no host h1");
    }

    @Test
    void writesCarryIncreasingVersionsAndWaitOrSyncReportTheHosts() {
        ApiFixture.Ids ids = api.basics();
        ApiResponse first = api.client.post("/v2.0/vms", body("vm", "name", "a", "host", "h1", "network_id", ids.network()));
        ApiResponse second = api.client.post("/v2.0/vms", body("vm", "name", "b", "host", "h1", "network_id", ids.network()));
        assertThat(second.version().orElseThrow()).isGreaterThan(first.version().orElseThrow());
        assertThat(first.header(ApiResponse.SYNC_HEADER)).isEmpty();

        ApiResponse waited = api.client.post("/v2.0/projects?wait=true&timeout=5", body("project", "name", "q"));
        assertThat(waited.header(ApiResponse.SYNC_HEADER)).contains("complete");

        api.syncAnswer = new SyncStatus(false, List.of("h1", "h2"));
        ApiResponse pending = api.client.delete("/v2.0/projects/" + waited.body().path("project").path("id").asText() + "?wait=true");
        assertThat(pending.status()).isEqualTo(204);
        assertThat(pending.header(ApiResponse.SYNC_HEADER)).contains("pending h1,h2");
        assertThat(api.client.awaitSync(second.version().orElseThrow(), Duration.ofSeconds(1)))
                .isEqualTo(new SyncStatus(false, List.of("h1", "h2")));
        api.syncAnswer = new SyncStatus(true, List.of());
        assertThat(api.client.awaitSync(second.version().orElseThrow(), Duration.ofSeconds(1))).isEqualTo(new SyncStatus(true, List.of()));
    }

    @Test
    void listsFilterByName() {
        api.client.post("/v2.0/hosts", body("host", "name", "h1", "address", "10.255.0.1"));
        api.client.post("/v2.0/hosts", body("host", "name", "h2", "address", "10.255.0.2"));
        assertThat(api.client.get("/v2.0/hosts").body().path("hosts")).extracting(h -> h.path("name").asText()).containsExactly("h1", "h2");
        assertThat(api.client.get("/v2.0/hosts?name=h2").body().path("hosts")).extracting(h -> h.path("address").asText())
                .containsExactly("10.255.0.2");
    }

    @Test
    void hostsHaveAnOptionalLocationLabel() {
        JsonNode plain = api.client.post("/v2.0/hosts", body("host", "name", "h1", "address", "10.255.0.1")).body().path("host");
        assertThat(plain.path("location").asText("missing")).isEmpty();
        JsonNode labelled = api.client.post("/v2.0/hosts", body("host", "name", "h2", "address", "10.255.0.2", "location", "zone-a"))
                .body().path("host");
        assertThat(labelled.path("location").asText()).isEqualTo("zone-a");
        long before = api.controller.version();
        assertThat(api.client.post("/v2.0/hosts", body("host", "name", "h2", "address", "10.255.0.2", "location", "zone-a")).status())
                .isEqualTo(200);
        assertThat(api.client.post("/v2.0/hosts", body("host", "name", "h1", "address", "10.255.0.1", "location", "")).status())
                .isEqualTo(200);
        assertThat(api.controller.version()).isEqualTo(before);
        assertThat(api.client.get("/v2.0/hosts/h2").body().path("host").path("location").asText()).isEqualTo("zone-a");
    }

    @Test
    void subnetsOfDifferentNetworksMayOverlap() throws IOException {
        ApiFixture.Ids ids = api.basics();
        String green = api.client.post("/v2.0/networks", body("network", "name", "green", "project_id", ids.project())).body()
                .path("network").path("id").asText();
        api.client.post("/v2.0/subnets", body("subnet", "name", "s", "network_id", green, "cidr", "10.0.0.0/24"));
        JsonNode a = api.client.post("/v2.0/vms", body("vm", "name", "a", "host", "h1", "network_id", ids.network())).body().path("vm");
        String port = api.client.post("/v2.0/ports", ApiFixture.JSON.readTree("{\"port\": {\"name\": \"b\", \"network_id\": \""
                + green + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.3\"}]}}")).body().path("port").path("id").asText();
        JsonNode b = api.client.post("/v2.0/vms", body("vm", "name", "b", "host", "h1", "port_id", port)).body().path("vm");
        assertThat(a.path("ip_address").asText()).isEqualTo("10.0.0.2");
        assertThat(b.path("ip_address").asText()).isEqualTo("10.0.0.3");
        assertThat(api.controller.registry().vms()).hasSize(2);
    }

    @Test
    void twoNetworksWithTheSameSubnetEachHaveAVmAtTheSameAddress() {
        // The graph derives a port's MAC from its address; a MAC need only be unique in its network.
        ApiFixture.Ids ids = api.basics();
        String green = api.client.post("/v2.0/networks", body("network", "name", "green", "project_id", ids.project())).body()
                .path("network").path("id").asText();
        api.client.post("/v2.0/subnets", body("subnet", "name", "s", "network_id", green, "cidr", "10.0.0.0/24"));
        api.client.post("/v2.0/vms", body("vm", "name", "a", "host", "h1", "network_id", ids.network()));

        api.client.post("/v2.0/vms", body("vm", "name", "b", "host", "h1", "network_id", green));
        assertThat(api.controller.list(Kind.VM)).extracting(r -> r.name()).containsExactly("a", "b");
        assertThat(api.controller.registry().vms()).hasSize(2);
    }
}
