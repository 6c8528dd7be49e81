package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.Controller;
import dev.vnet.controller.HostChangeSink;
import dev.vnet.controller.api.client.ApiException;
import dev.vnet.controller.api.client.ApiResponse;
import dev.vnet.gateway.config.GatewaySpec;
import dev.vnet.gateway.config.LoadBalancer;
import dev.vnet.gateway.config.LoadBalancerSpec;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;

import static dev.vnet.controller.api.ApiFixture.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Load balancers and gateways through the API and its client: views, members, idempotence, references. */
class LoadBalancerApiTest {
    private ApiFixture api;
    private ApiFixture.Ids ids;

    @BeforeEach
    void start() throws IOException {
        api = new ApiFixture();
        ids = api.basics();
        api.client.post("/v2.0/hosts", body("host", "name", "h2", "address", "10.255.0.2", "location", "zone-b"));
        api.client.post("/v2.0/vms", body("vm", "name", "vm1", "host", "h1", "network_id", ids.network()));
        api.client.post("/v2.0/vms", body("vm", "name", "vm2", "host", "h2", "network_id", ids.network()));
    }

    @AfterEach
    void stop() {
        api.close();
    }

    private static String lb(String name, String vip, String port, String... backends) {
        return "{\"loadbalancer\": {\"name\": \"" + name + "\", \"network\": \"blue\", \"vip_address\": \"" + vip
                + "\", \"ports\": [{\"protocol\": \"tcp\", \"port\": " + port + "}], \"backends\": [\"" + String.join("\", \"", backends) + "\"]}}";
    }

    @Test
    void aLoadBalancerIsShownNormalizedWithItsMembers() {
        HttpResponse<String> created = api.post("/v2.0/lbaas/loadbalancers", lb("web", "198.51.100.10", "80", "vm1", "vm2"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.headers().firstValue(NorthboundApi.VERSION_HEADER)).contains(Long.toString(api.controller.version()));
        JsonNode view = ApiFixture.json(created).path("loadbalancer");
        assertThat(view.path("id").asText()).hasSize(36);
        assertThat(view.path("network_id").asText()).isEqualTo(ids.network());
        assertThat(view.path("forwarding").asText()).isEqualTo("dnat");
        assertThat(view.path("flow_identity").asText()).isEqualTo("5-tuple");
        assertThat(view.path("table").path("size").asInt()).isEqualTo(65_537);
        assertThat(view.path("health_check").path("type").asText()).isEqualTo("tcp");
        assertThat(view.path("idle_timeout_seconds").asInt()).isEqualTo(300);
        assertThat(view.path("members")).hasSize(2);
        JsonNode first = view.path("members").get(0);
        assertThat(first.path("vm").asText()).isEqualTo("vm1");
        assertThat(first.path("address").asText()).isEqualTo("10.0.0.2");
        assertThat(first.path("host").asText()).isEqualTo("h1");
        assertThat(first.path("location").asText()).isEmpty();
        assertThat(view.path("members").get(1).path("location").asText()).isEqualTo("zone-b");

        assertThat(api.client.get("/v2.0/lbaas/loadbalancers/web").body().path("loadbalancer")).isEqualTo(view);
        assertThat(api.client.get("/v2.0/lbaas/loadbalancers/" + view.path("id").asText()).body().path("loadbalancer")).isEqualTo(view);
        assertThat(api.client.get("/v2.0/lbaas/loadbalancers?name=web").body().path("loadbalancers")).containsExactly(view);
        assertThat(api.client.get("/v2.0/lbaas/loadbalancers?name=other").body().path("loadbalancers")).isEmpty();
    }

    @Test
    void createsAreIdempotentByNameAndAnotherSpecificationIs409() {
        String body = lb("web", "198.51.100.10", "80", "vm1");
        HttpResponse<String> first = api.post("/v2.0/lbaas/loadbalancers", body);
        long before = api.controller.version();
        HttpResponse<String> again = api.post("/v2.0/lbaas/loadbalancers", body);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(ApiFixture.json(again).path("loadbalancer").path("id")).isEqualTo(ApiFixture.json(first).path("loadbalancer").path("id"));
        assertThat(api.controller.version()).isEqualTo(before);
        // The defaults written out are the same specification as leaving them out.
        ObjectNode explicit = (ObjectNode) ApiFixture.json(first).path("loadbalancer").deepCopy();
        explicit.remove(java.util.List.of("id", "network_id", "members"));
        assertThat(api.post("/v2.0/lbaas/loadbalancers", "{\"loadbalancer\": " + explicit + "}").statusCode()).isEqualTo(200);

        HttpResponse<String> other = api.post("/v2.0/lbaas/loadbalancers", lb("web", "198.51.100.10", "80", "vm1", "vm2"));
        assertThat(other.statusCode()).isEqualTo(409);
        assertThat(other.body()).contains("load balancer web already exists with a different specification");
        assertThat(api.controller.version()).isEqualTo(before);
    }

    @Test
    void aVipProtocolAndPortBelongToOneLoadBalancer() {
        api.post("/v2.0/lbaas/loadbalancers", lb("web", "198.51.100.10", "80", "vm1"));
        long before = api.controller.version();
        HttpResponse<String> clash = api.post("/v2.0/lbaas/loadbalancers", lb("web2", "198.51.100.10", "80", "vm2"));
        assertThat(clash.statusCode()).isEqualTo(409);
        assertThat(clash.body()).contains("load balancer web already listens on 198.51.100.10 tcp:80");
        assertThat(api.controller.version()).isEqualTo(before);
        assertThat(api.post("/v2.0/lbaas/loadbalancers", lb("web2", "198.51.100.10", "443", "vm2")).statusCode()).isEqualTo(201);
        assertThat(api.post("/v2.0/lbaas/loadbalancers", lb("web3", "198.51.100.11", "80", "vm2")).statusCode()).isEqualTo(201);
    }

    @Test
    void deletingABackendVmDropsTheMemberAndCreatingItAgainBringsItBack() {
        api.post("/v2.0/lbaas/loadbalancers", lb("web", "198.51.100.10", "80", "vm1", "vm2"));
        String vm2 = api.controller.list(dev.vnet.controller.graph.Kind.VM).stream().filter(vm -> vm.name().equals("vm2")).findFirst().orElseThrow().id();
        assertThat(api.client.delete("/v2.0/vms/" + vm2).status()).isEqualTo(204);
        LoadBalancer withOne = api.client.getLoadBalancer("web");
        assertThat(withOne.members()).extracting(LoadBalancer.Member::vm).containsExactly("vm1");
        assertThat(withOne.spec().backends()).containsExactly("vm1", "vm2");

        api.client.post("/v2.0/vms", body("vm", "name", "vm2", "host", "h1", "network_id", ids.network()));
        assertThat(api.client.getLoadBalancer("web").members()).extracting(LoadBalancer.Member::vm, LoadBalancer.Member::host)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("vm1", "h1"), org.assertj.core.groups.Tuple.tuple("vm2", "h1"));
    }

    @Test
    void aNetworkWithALoadBalancerIsInUseUnlessForcedWhichDeletesTheLoadBalancer() {
        api.post("/v2.0/lbaas/loadbalancers", lb("web", "198.51.100.10", "80", "vm1"));
        long before = api.controller.version();
        ApiException inUse = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
                () -> api.client.delete("/v2.0/networks/" + ids.network() + "?force=false"));
        assertThat(inUse.status()).isEqualTo(409);
        assertThat(inUse.getMessage()).isEqualTo("network blue is in use by load balancer web; delete those first, or force");
        assertThat(api.controller.version()).isEqualTo(before);
        ApiException projectInUse = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
                () -> api.client.delete("/v2.0/projects/" + ids.project()));
        assertThat(projectInUse.getMessage()).contains("project p is in use by load balancer web");

        api.client.delete("/v2.0/networks/" + ids.network() + "?force=true");
        assertThat(api.client.listLoadBalancers()).isEmpty();
    }

    @Test
    void theClientReadsAndWritesTheRecordsAndLoadBalancersSurviveARestart() {
        LoadBalancerSpec spec = LoadBalancerSpec.fromJson("{\"name\":\"dns\",\"network\":\"" + ids.network() + "\",\"vip_address\":\"198.51.100.53\","
                + "\"ports\":[{\"protocol\":\"udp\",\"port\":53}],\"backends\":[\"vm2\"],\"table\":{\"kind\":\"seed\",\"points\":50},\"locality\":true}");
        LoadBalancer created = api.client.createLoadBalancer(spec);
        assertThat(created.spec()).isEqualTo(spec);
        assertThat(created.members()).containsExactly(new LoadBalancer.Member("vm2",
                api.controller.list(dev.vnet.controller.graph.Kind.VM).stream().filter(vm -> vm.name().equals("vm2")).findFirst().orElseThrow().id(),
                Ipv4Address.parse("10.0.0.3"), "h2", "zone-b"));
        assertThat(api.client.createLoadBalancer(spec)).isEqualTo(created);
        assertThat(api.client.listLoadBalancers()).containsExactly(created);

        GatewaySpec gateway = new GatewaySpec("gw1", Ipv4Address.parse("10.99.0.11"), 4790, "zone-a", Ipv4Address.parse("198.18.0.11"));
        assertThat(api.client.createGateway(gateway)).isEqualTo(gateway);
        assertThat(api.client.listGateways()).containsExactly(gateway);

        try (Controller restarted = new Controller(api.store, new RegistryService(api.store, RegistryService.STORE_PREFIX,
                RegistryConfig.defaults()), HostChangeSink.NONE)) {
            assertThat(restarted.loadBalancers()).containsExactly(created);
            assertThat(restarted.gateways()).extracting(g -> g.spec()).containsExactly(gateway);
        }

        long version = api.client.deleteLoadBalancer("dns");
        assertThat(version).isEqualTo(api.controller.version());
        assertThat(api.client.listLoadBalancers()).isEmpty();
        assertThatThrownBy(() -> api.client.getLoadBalancer("dns")).isInstanceOf(ApiException.class).hasMessage("no load balancer dns");
    }

    @Test
    void gatewaysRegisterIdempotentlyByNameAndClashOnNameOrAddress() {
        String body = "{\"gateway\": {\"name\": \"gw1\", \"address\": \"10.99.0.11\", \"port\": 4790, \"location\": \"zone-a\", "
                + "\"public_address\": \"198.18.0.11\"}}";
        HttpResponse<String> first = api.post("/v2.0/gateways", body);
        assertThat(first.statusCode()).isEqualTo(201);
        JsonNode view = ApiFixture.json(first).path("gateway");
        assertThat(view.path("id").asText()).hasSize(36);
        assertThat(view.path("address").asText()).isEqualTo("10.99.0.11");
        assertThat(view.path("public_address").asText()).isEqualTo("198.18.0.11");
        long before = api.controller.version();
        assertThat(api.post("/v2.0/gateways", body).statusCode()).isEqualTo(200);
        assertThat(api.controller.version()).isEqualTo(before);

        HttpResponse<String> moved = api.post("/v2.0/gateways", body.replace("10.99.0.11", "10.99.0.12"));
        assertThat(moved.statusCode()).isEqualTo(409);
        assertThat(moved.body()).contains("gateway gw1 is already registered with a different specification");
        HttpResponse<String> sameAddress = api.post("/v2.0/gateways", body.replace("gw1", "gw2"));
        assertThat(sameAddress.statusCode()).isEqualTo(409);
        assertThat(sameAddress.body()).contains("gateway gw1 already has address 10.99.0.11 port 4790");
        assertThat(api.controller.version()).isEqualTo(before);

        assertThat(api.client.get("/v2.0/gateways/gw1").body().path("gateway")).isEqualTo(view);
        assertThat(api.client.get("/v2.0/gateways").body().path("gateways")).containsExactly(view);
        ApiResponse deleted = api.client.delete("/v2.0/gateways/" + view.path("id").asText());
        assertThat(deleted.status()).isEqualTo(204);
        assertThat(api.client.listGateways()).isEmpty();
    }
}
