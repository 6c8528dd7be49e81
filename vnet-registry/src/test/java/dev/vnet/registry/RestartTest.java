package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.registry.store.InMemoryKeyValueStore;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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
        harness.store.put(StoredRecords.ruleKey("a", "ghost"), "{\"source\":\"a\",\"destination\":\"ghost\"}".getBytes(StandardCharsets.UTF_8));
        harness.restart();
        assertThat(admin().listAllowRules()).isEmpty();
        assertThat(harness.store.scan(StoredRecords.RULES)).isEmpty();
    }

    @Test
    void anUnreadableRecordStopsTheStartNamingTheRecord() {
        InMemoryKeyValueStore store = new InMemoryKeyValueStore();
        store.put("networks/blue", "{\"name\":\"blue\",\"id\":1,\"subnet\":\"10.0.0.5/24\"}".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> new RegistryService(store, RegistryConfig.defaults()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("store record networks/blue").hasMessageContaining("host bits");
        InMemoryKeyValueStore broken = new InMemoryKeyValueStore();
        broken.put("hosts/h1", "not json".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> new RegistryService(broken, RegistryConfig.defaults()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("store record hosts/h1");
    }

    @Test
    void aVmIsOneHumanReadableRecordWithItsKeyInBase64() {
        admin().createNetwork("blue", 0, "10.0.0.0/24");
        admin().registerHost("h1", "10.255.0.1");
        admin().createVm("a", "blue", "h1", null);
        String record = new String(harness.store.get("vms/a").orElseThrow(), StandardCharsets.UTF_8);
        assertThat(record).contains("\"address\":\"10.0.0.2\"", "\"mac\":\"02:56:4e:00:00:00\"", "\"port\":47901", "\"host\":\"h1\"");
        String key = java.util.Base64.getEncoder().encodeToString(harness.client("h1").getHostAssignments().vms().getFirst().key());
        assertThat(record).contains("\"key\":\"" + key + "\"");
        assertThat(harness.store.scan("")).containsOnlyKeys("networks/blue", "hosts/h1", "vms/a");
    }
}
