package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.EmbeddedConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.store.KeyValue;
import dev.vnet.wire.Ipv4Address;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static dev.vnet.registry.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RestartTest {
    private final RegistryHarness harness = new RegistryHarness();

    /** Asked for anew each time: a restart replaces the servers behind the clients. */
    private RegistryClient admin() {
        return harness.admin();
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private record State(List<Network> networks, List<Host> hosts, List<Vm> vms, List<AllowRule> rules, List<Gateway> gateways,
                         HostAssignments h1, HostAssignments h2, HostAssignments gw, TokenGrant sameNetwork, TokenGrant otherNetwork,
                         TokenGrant outside) {
    }

    private State state() {
        RegistryClient h1 = harness.client("h1");
        return new State(admin().listNetworks(), admin().listHosts(), admin().listVms(), admin().listAllowRules(), admin().listGateways(),
                h1.getHostAssignments(), harness.client("h2").getHostAssignments(), harness.client("gw").getHostAssignments(),
                h1.requestToken("a", Ipv4Address.parse("10.0.0.3")).join(),
                h1.requestToken("a", Ipv4Address.parse("10.0.0.2"), "red").join(),
                h1.requestToken("a", Ipv4Address.parse("8.8.8.8")).join());
    }

    @Test
    void aNewServiceOverTheSameStoreShowsTheSameStateWithTheSameKeys() {
        admin().createNetwork("blue", 0, "10.0.0.0/24");
        admin().createNetwork("red", 7, "10.0.0.0/24");
        admin().registerHost("h1", "10.255.0.1");
        admin().registerHost("h2", "10.255.0.2");
        admin().createVm("a", "blue", "h1", null);
        admin().createVm("b", "blue", "h2", null);
        admin().createVm("c", "blue", "h2", "10.0.0.20");
        admin().createVm("r", "red", "h2", null);
        admin().deleteVm("c");
        admin().allowPair("a", "r");
        admin().setGateway("blue", "gw", "10.255.0.9", 47000);
        admin().setGateway("blue", "gw2", "10.255.0.10", 47000);
        admin().setGateway("red", "gw", "10.255.0.9", 47000);
        admin().setGateway("red", "h1", null, 48000);
        admin().setVmAdditionalAddresses("a", List.of(Ipv4Address.parse("203.0.113.10")));
        State before = state();

        harness.restart();

        State after = state();
        assertThat(after).isEqualTo(before);
        assertThat(after.h1().vms().getFirst().key()).isEqualTo(before.h1().vms().getFirst().key());
        assertThat(after.gw().gateways().getFirst().key()).isEqualTo(before.gw().gateways().getFirst().key());
        assertThat(harness.client("gw2").getHostAssignments().gateways().getFirst().key()).isEqualTo(before.gw().gateways().getFirst().key());
        assertThat(after.vms().getFirst().additionalAddresses()).containsExactly(Ipv4Address.parse("203.0.113.10"));
        assertThat(after.gw().gateways()).extracting(g -> g.gateway().network()).containsExactly("blue", "red");
        assertRefused(() -> harness.registry.createVm("x", "blue", "h1", null, null, 48000), Status.Code.ALREADY_EXISTS,
                "port 48000 on host h1 is already used by the gateway of network red");

        // Allocation continues from the loaded state: no address, port, MAC or id is handed out twice.
        Vm d = admin().createVm("d", "blue", "h2", null);
        assertThat(Ipv4Address.toString(d.address())).isEqualTo("10.0.0.4");
        assertThat(after.vms()).allSatisfy(vm -> assertThat(vm.mac()).isNotEqualTo(d.mac()));
        assertThat(after.vms()).filteredOn(vm -> vm.host().equals("h2")).allSatisfy(vm -> assertThat(vm.port()).isNotEqualTo(d.port()));
        assertThat(admin().createNetwork("green", 0, "10.1.0.0/16").id()).isEqualTo(8);
    }

    private static final String LEGACY_KEY = java.util.Base64.getEncoder().encodeToString(new byte[32]).replace("AAAA", "AQID");

    private void put(String record, String json) {
        harness.store.put(RegistryHarness.key(record), json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aSingleGatewayRecordOfTheOldLayoutIsLoadedAsTheNetworksSetAndRewritten() {
        admin().createNetwork("blue", 0, "10.0.0.0/24");
        admin().registerHost("h1", "10.255.0.1");
        admin().createVm("a", "blue", "h1", null);
        put("gateways/blue", "{\"network\":\"blue\",\"name\":\"gw\",\"address\":\"10.255.0.9\",\"port\":47000,\"key\":\"" + LEGACY_KEY + "\"}");
        harness.restart();

        Gateway gateway = new Gateway("blue", "gw", Ipv4Address.parse("10.255.0.9"), 47000);
        byte[] key = java.util.Base64.getDecoder().decode(LEGACY_KEY);
        assertThat(admin().listGateways()).containsExactly(gateway);
        assertThat(harness.client("gw").getHostAssignments().gateways()).singleElement()
                .satisfies(g -> assertThat(g.key()).isEqualTo(key));
        assertThat(harness.recordKeys(StoredRecords.GATEWAYS)).containsExactly(RegistryHarness.key("gateways/blue/gw"));
        assertThat(harness.store.get(RegistryHarness.key("gateway-keys/blue")).orElseThrow().valueAsString()).contains(LEGACY_KEY);

        harness.restart();
        assertThat(admin().listGateways()).containsExactly(gateway);
        assertThat(harness.client("gw").getHostAssignments().gateways().getFirst().key()).isEqualTo(key);
        admin().setGateway("blue", "gw2", "10.255.0.10", 47000);
        assertThat(harness.client("gw2").getHostAssignments().gateways().getFirst().key()).isEqualTo(key);
    }

    @Test
    void aGatewayWithoutItsNetworksKeyStopsTheStartAndAKeyWithoutGatewaysIsDeleted() {
        admin().createNetwork("blue", 0, "10.0.0.0/24");
        admin().createNetwork("red", 0, "10.1.0.0/24");
        put("gateway-keys/red", "{\"network\":\"red\",\"key\":\"" + LEGACY_KEY + "\"}");
        harness.restart();
        assertThat(harness.recordKeys(StoredRecords.GATEWAY_KEYS)).isEmpty();
        assertThat(admin().listGateways()).isEmpty();

        put("gateways/blue/gw", "{\"network\":\"blue\",\"name\":\"gw\",\"address\":\"10.255.0.9\",\"port\":47000}");
        assertThatThrownBy(() -> new RegistryService(harness.store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("store record /registry/gateways/blue/gw")
                .hasMessageContaining("network blue has no gateway key record");
        put("gateway-keys/blue", "{\"network\":\"blue\",\"key\":\"AAEC\"}");
        assertThatThrownBy(() -> new RegistryService(harness.store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("store record /registry/gateway-keys/blue")
                .hasMessageContaining("not 32 bytes");
        put("gateway-keys/blue", "{\"network\":\"blue\",\"key\":\"" + LEGACY_KEY + "\"}");
        put("gateways/blue/gw", "{\"network\":\"blue\",\"name\":\"other\",\"address\":\"10.255.0.9\",\"port\":47000}");
        assertThatThrownBy(() -> new RegistryService(harness.store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("it names gateway other of network blue");
        put("gateways/blue/gw", "{\"network\":\"blue\",\"name\":\"gw\",\"address\":\"10.255.0.9\",\"port\":47000}");
        harness.restart();
        assertThat(admin().listGateways()).extracting(Gateway::name).containsExactly("gw");
    }

    @Test
    void aBadAdditionalAddressInAVmRecordStopsTheStart() {
        admin().createNetwork("blue", 0, "10.0.0.0/24");
        admin().registerHost("h1", "10.255.0.1");
        admin().createVm("a", "blue", "h1", null);
        String record = harness.store.get(RegistryHarness.key("vms/a")).orElseThrow().valueAsString();
        put("vms/a", record.replace("}", ",\"additionalAddresses\":[\"224.0.0.1\"]}"));
        assertThatThrownBy(() -> new RegistryService(harness.store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("store record /registry/vms/a")
                .hasMessageContaining("not a unicast address");
    }

    @Test
    void anAllowRuleNamingAMissingVmIsDeletedAtLoad() {
        admin().createNetwork("blue", 0, "10.0.0.0/24");
        admin().registerHost("h1", "10.255.0.1");
        admin().createVm("a", "blue", "h1", null);
        harness.store.put(RegistryHarness.key(StoredRecords.ruleKey("a", "ghost")), "{\"source\":\"a\",\"destination\":\"ghost\"}".getBytes(StandardCharsets.UTF_8));
        harness.restart();
        assertThat(admin().listAllowRules()).isEmpty();
        assertThat(harness.recordKeys(StoredRecords.RULES)).isEmpty();
    }

    @Test
    void anUnreadableRecordStopsTheStartNamingTheRecord() {
        try (ConfigStore store = new InMemoryConfigStore(); ConfigStore broken = new InMemoryConfigStore()) {
            store.put("/registry/networks/blue", "{\"name\":\"blue\",\"id\":1,\"subnet\":\"10.0.0.5/24\"}".getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(() -> new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("store record /registry/networks/blue")
                    .hasMessageContaining("host bits");
            broken.put("/registry/hosts/h1", "not json".getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(() -> new RegistryService(broken, RegistryService.STORE_PREFIX, RegistryConfig.defaults()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("store record /registry/hosts/h1");
        }
    }

    @Test
    void aVmIsOneHumanReadableRecordWithItsKeyInBase64() {
        admin().createNetwork("blue", 0, "10.0.0.0/24");
        admin().registerHost("h1", "10.255.0.1");
        admin().createVm("a", "blue", "h1", null);
        String record = harness.store.get("/registry/vms/a").orElseThrow().valueAsString();
        assertThat(record).contains("\"address\":\"10.0.0.2\"", "\"mac\":\"02:56:4e:00:00:00\"", "\"port\":47901", "\"host\":\"h1\"");
        String key = java.util.Base64.getEncoder().encodeToString(harness.client("h1").getHostAssignments().vms().getFirst().key());
        assertThat(record).contains("\"key\":\"" + key + "\"");
        assertThat(harness.store.range("").entries()).extracting(KeyValue::key)
                .containsExactly("/registry/hosts/h1", "/registry/networks/blue", "/registry/vms/a");
    }

    @Test
    void theRegistryKeepsToItsPrefixInAStoreItShares() {
        try (ConfigStore shared = new InMemoryConfigStore()) {
            shared.put("/controller/networks/blue", "not a registry record".getBytes(StandardCharsets.UTF_8));
            shared.put("/registry-old/hosts/h1", "not json either".getBytes(StandardCharsets.UTF_8));
            RegistryService first = new RegistryService(shared, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
            RegistryService second = new RegistryService(shared, "/lab2/registry/", RegistryConfig.defaults());
            first.createNetwork("blue", 0, "10.0.0.0/24");
            second.createNetwork("blue", 0, "10.1.0.0/24");
            second.registerHost("h1", "10.255.0.1");

            assertThat(first.hosts()).isEmpty();
            assertThat(new RegistryService(shared, RegistryService.STORE_PREFIX, RegistryConfig.defaults()).networks())
                    .extracting(network -> network.subnet().toString()).containsExactly("10.0.0.0/24");
            assertThat(shared.range("").entries()).extracting(KeyValue::key).containsExactly("/controller/networks/blue",
                    "/lab2/registry/hosts/h1", "/lab2/registry/networks/blue", "/registry-old/hosts/h1", "/registry/networks/blue");
            assertThatThrownBy(() -> new RegistryService(shared, "/registry", RegistryConfig.defaults()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ending in '/'");
        }
    }

    @Test
    void overTheEmbeddedStoreTheStateSurvivesClosingAndReopeningIt(@TempDir Path directory) {
        RegistryConfig config = RegistryConfig.defaults();
        Vm a;
        byte[] key;
        try (ConfigStore store = EmbeddedConfigStore.open(directory)) {
            RegistryService registry = new RegistryService(store, RegistryService.STORE_PREFIX, config);
            registry.createNetwork("blue", 0, "10.0.0.0/24");
            registry.registerHost("h1", "10.255.0.1");
            a = registry.createVm("a", "blue", "h1", null);
            registry.createVm("b", "blue", "h1", null);
            registry.allowPair("a", "b");
            registry.deleteVm("b");
            key = registry.hostAssignments("h1").vms().getFirst().key();
        }
        try (ConfigStore store = EmbeddedConfigStore.open(directory)) {
            RegistryService registry = new RegistryService(store, RegistryService.STORE_PREFIX, config);
            assertThat(registry.vms()).containsExactly(a);
            assertThat(registry.allowRules()).isEmpty();
            assertThat(registry.hostAssignments("h1").vms().getFirst().key()).isEqualTo(key);
            assertThat(registry.createVm("c", "blue", "h1", null).address()).isEqualTo(Ipv4Address.parse("10.0.0.3"));
        }
    }
}
