package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.EmbeddedConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.store.KeyValue;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

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
        State before = state();

        harness.restart();

        State after = state();
        assertThat(after).isEqualTo(before);
        assertThat(after.h1().vms().getFirst().key()).isEqualTo(before.h1().vms().getFirst().key());
        assertThat(after.gw().gateways().getFirst().key()).isEqualTo(before.gw().gateways().getFirst().key());

        // Allocation continues from the loaded state: no address, port, MAC or id is handed out twice.
        Vm d = admin().createVm("d", "blue", "h2", null);
        assertThat(Ipv4Address.toString(d.address())).isEqualTo("10.0.0.4");
        assertThat(after.vms()).allSatisfy(vm -> assertThat(vm.mac()).isNotEqualTo(d.mac()));
        assertThat(after.vms()).filteredOn(vm -> vm.host().equals("h2")).allSatisfy(vm -> assertThat(vm.port()).isNotEqualTo(d.port()));
        assertThat(admin().createNetwork("green", 0, "10.1.0.0/16").id()).isEqualTo(8);
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
