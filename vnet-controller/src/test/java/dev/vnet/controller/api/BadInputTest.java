package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vnet.controller.graph.Kind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input is refused with a 4xx that says what is wrong, and writes nothing: the config store's
 * revision (which every write advances) is the same after the refused request as before it.
 */
class BadInputTest {
    private ApiFixture api;
    private ApiFixture.Ids ids;

    @BeforeEach
    void start() throws IOException {
        api = new ApiFixture();
        ids = api.basics();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    /** Sends the request and checks the refusal and that the store did not change. */
    private JsonNode refused(int status, String type, String messagePart, Supplier<HttpResponse<String>> request) {
        long before = api.controller.version();
        HttpResponse<String> response = request.get();
        JsonNode error = ApiFixture.json(response).path("NeutronError");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(error.path("type").asText()).as(response.body()).isEqualTo(type);
        assertThat(error.path("message").asText()).contains(messagePart);
        assertThat(error.path("detail").asText()).isEmpty();
        assertThat(api.controller.version()).as("store revision after " + response.body()).isEqualTo(before);
        return error;
    }

    @Test
    void malformedJsonNamesTheLineAndColumn() {
        refused(400, "BadRequest", "malformed JSON (line 2, column 23)",
                () -> api.post("/v2.0/networks", "{\"network\":\n  {\"name\": \"red\", \"x\" }}"));
        refused(400, "BadRequest", "malformed JSON", () -> api.post("/v2.0/networks", "{\"network\": {\"name\": \"red\"}"));
        refused(400, "BadRequest", "more content after the JSON object",
                () -> api.post("/v2.0/projects", "{\"project\": {\"name\": \"q\"}} {}"));
        refused(400, "BadRequest", "Duplicate field 'name'",
                () -> api.post("/v2.0/projects", "{\"project\": {\"name\": \"q\", \"name\": \"r\"}}"));
        refused(400, "BadRequest", "no body", () -> api.post("/v2.0/projects", ""));
        refused(400, "BadRequest", "JSON null", () -> api.post("/v2.0/projects", "null"));
    }

    @Test
    void unknownFieldsAreNamed() {
        JsonNode error = refused(400, "BadRequest", "unknown field 'shared' in network",
                () -> api.post("/v2.0/networks", "{\"network\": {\"name\": \"red\", \"shared\": true}}"));
        assertThat(error.path("message").asText()).contains("known fields: name, project_id");
        refused(400, "BadRequest", "unknown field 'networks'", () -> api.post("/v2.0/networks", "{\"networks\": {\"name\": \"red\"}}"));
        refused(400, "BadRequest", "unknown field 'mac' in port.fixed_ips[0]", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"mac\": \"x\"}]}}"));
    }

    @Test
    void wrongTypesAndMissingFieldsAreNamed() {
        refused(400, "BadRequest", "field 'network.name' must be a string", () -> api.post("/v2.0/networks", "{\"network\": {\"name\": 5}}"));
        refused(400, "BadRequest", "field 'subnet.ip_version' must be a whole number", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"t\", \"network_id\": \"" + ids.network() + "\", \"cidr\": \"10.1.0.0/24\", \"ip_version\": \"4\"}}"));
        refused(400, "BadRequest", "field 'port.fixed_ips' must be an array", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": {}}}"));
        refused(400, "BadRequest", "the body needs a 'network' object", () -> api.post("/v2.0/networks", "{}"));
        refused(400, "BadRequest", "the body must be an object", () -> api.post("/v2.0/networks", "[1]"));
        refused(400, "BadRequest", "field 'subnet.cidr' is required", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"t\", \"network_id\": \"" + ids.network() + "\"}}"));
        refused(400, "BadRequest", "field 'host.address' is required", () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\"}}"));
        refused(400, "BadRequest", "field 'vm.host' is required", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"v\", \"network_id\": \"" + ids.network() + "\"}}"));
    }

    @Test
    void aBodyThatIsNotDeclaredJsonIs415() {
        refused(415, "UnsupportedMediaType", "not 'text/plain'",
                () -> api.send("POST", "/v2.0/projects", "text/plain", "{\"project\": {\"name\": \"q\"}}"));
        refused(415, "UnsupportedMediaType", "no Content-Type",
                () -> api.send("POST", "/v2.0/projects", null, "{\"project\": {\"name\": \"q\"}}"));
        HttpResponse<String> withCharset = api.send("POST", "/v2.0/projects", "application/json; charset=utf-8", "{\"project\": {\"name\": \"q\"}}");
        assertThat(withCharset.statusCode()).isEqualTo(201);
    }

    @Test
    void aSecondSubnetInTheSameNetworkIsRefusedOverlappingOrNot() {
        // The graph refuses overlapping subnets in one network; the controller refuses any second subnet
        // (one subnet per network for now), which is the rule an overlapping one meets first.
        refused(409, "Conflict", "a network has one subnet for now", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"t\", \"network_id\": \"" + ids.network() + "\", \"cidr\": \"10.0.0.128/25\"}}"));
        refused(409, "Conflict", "a network has one subnet for now", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"t\", \"network_id\": \"" + ids.network() + "\", \"cidr\": \"10.1.0.0/24\"}}"));
        refused(409, "Conflict", "already exists", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"s\", \"network_id\": \"" + ids.network() + "\", \"cidr\": \"10.0.0.0/25\"}}"));
        String other = otherNetwork();
        refused(400, "BadRequest", "host bits set", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"s\", \"network_id\": \"" + other + "\", \"cidr\": \"10.0.0.1/24\"}}"));
        refused(400, "BadRequest", "prefix length must be 1 to 30", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"s\", \"network_id\": \"" + other + "\", \"cidr\": \"10.0.0.0/31\"}}"));
    }

    @Test
    void ipVersion6IsRefused() {
        String other = otherNetwork();
        refused(400, "BadRequest", "ip_version 6 is not supported", () -> api.post("/v2.0/subnets",
                "{\"subnet\": {\"name\": \"v6\", \"network_id\": \"" + other + "\", \"cidr\": \"10.2.0.0/24\", \"ip_version\": 6}}"));
    }

    @Test
    void portAddressesOutsideTheSubnetReservedOrTwoAreRefused() {
        refused(400, "BadRequest", "outside", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.9.9.9\"}]}}"));
        refused(400, "BadRequest", "reserved", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.1\"}]}}"));
        refused(400, "BadRequest", "port address", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.300\"}]}}"));
        refused(400, "BadRequest", "a port has at most one address", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.5\"}, {\"ip_address\": \"10.0.0.6\"}]}}"));
        String other = otherNetwork();
        api.post("/v2.0/subnets", "{\"subnet\": {\"name\": \"s2\", \"network_id\": \"" + other + "\", \"cidr\": \"10.7.0.0/24\"}}");
        String otherSubnet = api.controller.list(Kind.SUBNET).stream().filter(s -> s.name().equals("s2")).findFirst().orElseThrow().id();
        refused(400, "BadRequest", "is not in network blue", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"subnet_id\": \"" + otherSubnet + "\"}]}}"));
        api.post("/v2.0/ports", "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.5\"}]}}");
        refused(409, "Conflict", "address 10.0.0.5 is taken", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"b\", \"network_id\": \"" + ids.network() + "\", \"fixed_ips\": [{\"ip_address\": \"10.0.0.5\"}]}}"));
        refused(409, "Conflict", "already exists", () -> api.post("/v2.0/ports",
                "{\"port\": {\"name\": \"a\", \"network_id\": \"" + ids.network() + "\"}}"));
    }

    @Test
    void anUnknownHostIsRefusedBeforeTheVmsPortIsCreated() {
        refused(404, "HostNotFound", "no host nowhere", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"v\", \"host\": \"nowhere\", \"network_id\": \"" + ids.network() + "\"}}"));
        assertThat(api.controller.list(Kind.PORT)).isEmpty();
        refused(404, "NetworkNotFound", "no network nothing", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"v\", \"host\": \"h1\", \"network_id\": \"nothing\"}}"));
        refused(404, "PortNotFound", "no port nothing", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"v\", \"host\": \"h1\", \"port_id\": \"nothing\"}}"));
        refused(400, "BadRequest", "exactly one of vm.port_id", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"v\", \"host\": \"h1\"}}"));
        refused(400, "BadRequest", "invalid vm name", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"no spaces\", \"host\": \"h1\", \"network_id\": \"" + ids.network() + "\"}}"));
        String withoutSubnet = otherNetwork();
        refused(409, "Conflict", "has no subnet yet", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"v\", \"host\": \"h1\", \"network_id\": \"" + withoutSubnet + "\"}}"));
        assertThat(api.controller.list(Kind.PORT)).isEmpty();
        assertThat(api.controller.list(Kind.VM)).isEmpty();
    }

    @Test
    void aVmCannotTakeAPortInUseOrOfAnotherProject() {
        HttpResponse<String> vm = api.post("/v2.0/vms", "{\"vm\": {\"name\": \"v\", \"host\": \"h1\", \"network_id\": \"" + ids.network() + "\"}}");
        assertThat(vm.statusCode()).isEqualTo(201);
        String port = ApiFixture.json(vm).path("vm").path("port_id").asText();
        refused(409, "InUse", "is already used by", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"w\", \"host\": \"h1\", \"port_id\": \"" + port + "\"}}"));
        String otherProject = ApiFixture.json(api.post("/v2.0/projects", "{\"project\": {\"name\": \"q\"}}")).path("project").path("id").asText();
        refused(400, "BadRequest", "a vm's port must be in one of its project's networks", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"w\", \"host\": \"h1\", \"project_id\": \"" + otherProject + "\", \"network_id\": \"" + ids.network() + "\"}}"));
        api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\", \"address\": \"10.255.0.2\"}}");
        refused(409, "Conflict", "it is not on host h2", () -> api.post("/v2.0/vms",
                "{\"vm\": {\"name\": \"v\", \"host\": \"h2\", \"network_id\": \"" + ids.network() + "\"}}"));
        refused(409, "InUse", "is in use", () -> api.send("DELETE", "/v2.0/networks/" + ids.network(), null, null));
        refused(409, "InUse", "is in use", () -> api.send("DELETE", "/v2.0/hosts/h1", null, null));
    }

    @Test
    void hostsWithATakenOrUnusableAddressOrTheAdminNameAreRefused() {
        refused(409, "Conflict", "is already host h1's", () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\", \"address\": \"10.255.0.1\"}}"));
        refused(409, "Conflict", "already exists", () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h1\", \"address\": \"10.255.0.2\"}}"));
        refused(400, "BadRequest", "not a unicast address", () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\", \"address\": \"224.0.0.1\"}}"));
        refused(400, "BadRequest", "not a unicast address", () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\", \"address\": \"0.0.0.0\"}}"));
        refused(400, "BadRequest", "host address", () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\", \"address\": \"10.255.0\"}}"));
        refused(400, "BadRequest", "administrator's identity", () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"admin\", \"address\": \"10.255.0.9\"}}"));
    }

    @Test
    void anInvalidNetworkNameCreatesNoDefaultProject() {
        refused(400, "BadRequest", "invalid network name", () -> api.post("/v2.0/networks", "{\"network\": {\"name\": \"-x\"}}"));
        assertThat(api.controller.list(Kind.PROJECT)).extracting(r -> r.name()).containsExactly("p");
        refused(404, "ProjectNotFound", "no project nothing", () -> api.post("/v2.0/networks", "{\"network\": {\"name\": \"x\", \"project_id\": \"nothing\"}}"));
    }

    @Test
    void badQueryParametersAreRefusedBeforeTheWrite() {
        refused(400, "BadRequest", "'wait' must be true or false", () -> api.post("/v2.0/projects?wait=maybe", "{\"project\": {\"name\": \"q\"}}"));
        refused(400, "BadRequest", "'timeout' must be a whole number from 0 to 120", () -> api.post("/v2.0/projects?wait=true&timeout=500",
                "{\"project\": {\"name\": \"q\"}}"));
        refused(400, "BadRequest", "unknown query parameter 'dry_run'", () -> api.post("/v2.0/projects?dry_run=1", "{\"project\": {\"name\": \"q\"}}"));
        refused(400, "BadRequest", "'force' must be true or false", () -> api.send("DELETE", "/v2.0/projects/" + ids.project() + "?force=yes", null, null));
        refused(400, "BadRequest", "'version' is required", () -> api.send("GET", "/v2.0/sync", null, null));
    }

    @Test
    void unknownRoutesAre404AndWrongMethods405() {
        refused(404, "NotFound", "no such resource: /v2.0/routers", () -> api.send("GET", "/v2.0/routers", null, null));
        refused(404, "NetworkNotFound", "no network nothing", () -> api.send("GET", "/v2.0/networks/nothing", null, null));
        refused(404, "NetworkNotFound", "no network " + ids.subnet(), () -> api.send("DELETE", "/v2.0/networks/" + ids.subnet(), null, null));
        long before = api.controller.version();
        HttpResponse<String> put = api.send("PUT", "/v2.0/networks/" + ids.network(), "application/json", "{}");
        assertThat(put.statusCode()).isEqualTo(405);
        assertThat(put.headers().firstValue("Allow")).contains("DELETE, GET");
        assertThat(ApiFixture.json(put).path("NeutronError").path("type").asText()).isEqualTo("MethodNotAllowed");
        assertThat(api.controller.version()).isEqualTo(before);
    }

    @Test
    void aBodyOverOneMebibyteIs413() {
        String huge = "{\"project\": {\"name\": \"" + "x".repeat((1 << 20) + 1) + "\"}}";
        refused(413, "RequestEntityTooLarge", "larger than 1048576 bytes", () -> api.post("/v2.0/projects", huge));
    }

    @Test
    void invalidLoadBalancerOptionsAreRefusedWithTheFieldNamed() {
        api.post("/v2.0/vms", "{\"vm\": {\"name\": \"vm1\", \"host\": \"h1\", \"network_id\": \"" + ids.network() + "\"}}");
        String valid = "\"name\": \"web\", \"network\": \"blue\", \"vip_address\": \"198.51.100.10\", "
                + "\"ports\": [{\"protocol\": \"tcp\", \"port\": 80}], \"backends\": [\"vm1\"]";
        String path = "/v2.0/lbaas/loadbalancers";
        refused(400, "BadRequest", "the body needs a 'loadbalancer' object", () -> api.post(path, "{}"));
        refused(400, "BadRequest", "unknown field 'load_balancer'", () -> api.post(path, "{\"load_balancer\": {" + valid + "}}"));
        refused(400, "BadRequest", "invalid load balancer: unknown field 'algorithm'",
                () -> api.post(path, "{\"loadbalancer\": {" + valid + ", \"algorithm\": \"ROUND_ROBIN\"}}"));
        refused(400, "BadRequest", "Duplicate field 'name'", () -> api.post(path, "{\"loadbalancer\": {" + valid + ", \"name\": \"x\"}}"));
        refused(400, "BadRequest", "invalid load balancer: vip_address 224.1.1.1 is a multicast address",
                () -> api.post(path, "{\"loadbalancer\": {" + valid.replace("198.51.100.10", "224.1.1.1") + "}}"));
        refused(400, "BadRequest", "invalid load balancer: ports[0].port must be 1 to 65535, not 70000",
                () -> api.post(path, "{\"loadbalancer\": {" + valid.replace("80}", "70000}") + "}}"));
        refused(400, "BadRequest", "invalid load balancer: table.size must be a prime from 7 to 1000003, not 65536 (not prime)",
                () -> api.post(path, "{\"loadbalancer\": {" + valid + ", \"table\": {\"kind\": \"maglev\", \"size\": 65536}}}"));
        refused(400, "BadRequest", "invalid load balancer: health_check.timeout_ms must be at least 50 and less than interval_ms (1000)",
                () -> api.post(path, "{\"loadbalancer\": {" + valid + ", \"health_check\": {\"timeout_ms\": 1000}}}"));
        refused(400, "BadRequest", "invalid load balancer: flow_identity must be 5-tuple, 3-tuple or 2-tuple",
                () -> api.post(path, "{\"loadbalancer\": {" + valid + ", \"flow_identity\": \"6-tuple\"}}"));
        refused(400, "BadRequest", "invalid load balancer: a load balancer must be a JSON object", () -> api.post(path, "{\"loadbalancer\": [1]}"));
        // The references: network, backends, the VIP against the network's subnet.
        refused(404, "NotFound", "no network green", () -> api.post(path, "{\"loadbalancer\": {" + valid.replace("blue", "green") + "}}"));
        refused(400, "BadRequest", "backends[0]: vm vm9 is not a VM of network blue (there is no VM of that name)",
                () -> api.post(path, "{\"loadbalancer\": {" + valid.replace("vm1", "vm9") + "}}"));
        refused(400, "BadRequest", "vip_address 10.0.0.200 is inside subnet s (10.0.0.0/24) of network blue",
                () -> api.post(path, "{\"loadbalancer\": {" + valid.replace("198.51.100.10", "10.0.0.200") + "}}"));
        String green = otherNetwork();
        api.post("/v2.0/subnets", "{\"subnet\": {\"name\": \"g\", \"network_id\": \"" + green + "\", \"cidr\": \"10.5.0.0/24\"}}");
        api.post("/v2.0/vms", "{\"vm\": {\"name\": \"vm5\", \"host\": \"h1\", \"network_id\": \"" + green + "\"}}");
        refused(400, "BadRequest", "backends[1]: vm vm5 is not a VM of network blue (a VM of that name is in another network",
                () -> api.post(path, "{\"loadbalancer\": {" + valid.replace("[\"vm1\"]", "[\"vm1\", \"vm5\"]") + "}}"));
        refused(400, "BadRequest", "'force'", () -> api.send("DELETE", path + "/web?force=true", null, null));
        refused(404, "LoadBalancerNotFound", "no load balancer web", () -> api.send("DELETE", path + "/web", null, null));
        assertThat(api.controller.loadBalancers()).isEmpty();
    }

    @Test
    void invalidGatewaysAndHostLocationsAreRefused() {
        String valid = "\"name\": \"gw1\", \"address\": \"10.99.0.11\", \"port\": 4790, \"public_address\": \"198.18.0.11\"";
        refused(400, "BadRequest", "the body needs a 'gateway' object", () -> api.post("/v2.0/gateways", "{}"));
        refused(400, "BadRequest", "invalid gateway: unknown field 'zone'",
                () -> api.post("/v2.0/gateways", "{\"gateway\": {" + valid + ", \"zone\": \"a\"}}"));
        refused(400, "BadRequest", "invalid gateway: port must be 1 to 65535, not 0",
                () -> api.post("/v2.0/gateways", "{\"gateway\": {" + valid.replace("4790", "0") + "}}"));
        refused(400, "BadRequest", "invalid gateway: public_address is required",
                () -> api.post("/v2.0/gateways", "{\"gateway\": {\"name\": \"gw1\", \"address\": \"10.99.0.11\", \"port\": 4790}}"));
        refused(400, "BadRequest", "invalid gateway: location 'zone a' is invalid",
                () -> api.post("/v2.0/gateways", "{\"gateway\": {" + valid + ", \"location\": \"zone a\"}}"));
        refused(404, "GatewayNotFound", "no gateway gw1", () -> api.send("GET", "/v2.0/gateways/gw1", null, null));
        refused(400, "BadRequest", "host location 'zone a' is invalid",
                () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\", \"address\": \"10.255.0.2\", \"location\": \"zone a\"}}"));
        refused(400, "BadRequest", "field 'host.location' must be a string",
                () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h2\", \"address\": \"10.255.0.2\", \"location\": 3}}"));
        refused(409, "Conflict", "already exists",
                () -> api.post("/v2.0/hosts", "{\"host\": {\"name\": \"h1\", \"address\": \"10.255.0.1\", \"location\": \"zone-a\"}}"));
    }

    private String otherNetwork() {
        return ApiFixture.json(api.post("/v2.0/networks", "{\"network\": {\"name\": \"green\", \"project_id\": \"" + ids.project() + "\"}}"))
                .path("network").path("id").asText();
    }
}
