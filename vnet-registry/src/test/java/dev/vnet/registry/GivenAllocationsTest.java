package dev.vnet.registry;

import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.MacAddress;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The controller's graph allocates MACs and ports itself; the registry takes them as given. */
class GivenAllocationsTest {
    private final InMemoryConfigStore store = new InMemoryConfigStore();
    private final RegistryService registry = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());

    GivenAllocationsTest() {
        registry.createNetwork("blue", 7, "10.0.0.0/24");
        registry.registerHost("h1", "10.255.0.1");
    }

    @Test
    void aGivenMacAndPortAreKeptAndSurviveARestart() {
        Vm vm = registry.createVm("a", "blue", "h1", "10.0.0.9", "02:4e:0a:00:00:09", 48000);
        assertThat(MacAddress.toString(vm.mac())).isEqualTo("02:4e:0a:00:00:09");
        assertThat(vm.port()).isEqualTo(48000);
        assertThat(registry.createVm("a", "blue", "h1", "10.0.0.9", "02:4e:0a:00:00:09", 48000)).isEqualTo(vm);

        RegistryService restarted = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        assertThat(restarted.vms()).containsExactly(vm);
        assertThat(restarted.vmsOf("blue")).containsExactly(vm);
    }

    @Test
    void aTakenMacOrPortOrAMulticastMacIsRefused() {
        registry.createVm("a", "blue", "h1", null, "02:4e:0a:00:00:09", 48000);
        assertThatThrownBy(() -> registry.createVm("b", "blue", "h1", null, "02:4e:0a:00:00:09", 0))
                .hasMessageContaining("mac 02:4e:0a:00:00:09 is already used by vm a in network blue");
        assertThatThrownBy(() -> registry.createVm("b", "blue", "h1", null, null, 48000))
                .hasMessageContaining("port 48000 on host h1 is already used by vm a");
        assertThatThrownBy(() -> registry.createVm("b", "blue", "h1", null, "03:00:00:00:00:01", 0))
                .hasMessageContaining("not a unicast MAC");
        assertThatThrownBy(() -> registry.createVm("b", "blue", "h1", null, null, 80))
                .hasMessageContaining("outside the hosts' VM port range");
        assertThat(registry.vms()).hasSize(1);
        // Assigned MACs still come from the registry's own range, next to a given one.
        assertThat(MacAddress.toString(registry.createVm("c", "blue", "h1", null).mac())).isEqualTo("02:56:4e:00:00:00");
    }

    @Test
    void twoNetworksMayGiveTheSameMacAndItStaysUsedUntilTheLastVmGoes() {
        registry.createNetwork("red", 8, "10.0.0.0/24");
        registry.createVm("a", "blue", "h1", "10.0.0.9", "02:4e:0a:00:00:09", 0);
        registry.createVm("b", "red", "h1", "10.0.0.9", "02:4e:0a:00:00:09", 0);
        registry.deleteVm("a");
        assertThatThrownBy(() -> registry.createVm("c", "red", "h1", null, "02:4e:0a:00:00:09", 0))
                .hasMessageContaining("already used by vm b in network red");
        RegistryService restarted = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        assertThat(restarted.vms()).extracting(Vm::name).containsExactly("b");
    }

    @Test
    void networksAndHostsAreDeletedOnlyWhenNothingUsesThem() {
        registry.createVm("a", "blue", "h1", null);
        assertThatThrownBy(() -> registry.deleteNetwork("blue")).isInstanceOf(RegistryException.class)
                .hasMessageContaining("network blue still has 1 vms")
                .satisfies(e -> assertThat(((RegistryException) e).code()).isEqualTo(Status.Code.FAILED_PRECONDITION));
        assertThatThrownBy(() -> registry.deleteHost("h1")).hasMessageContaining("host h1 still serves vm a");
        registry.deleteVm("a");
        registry.deleteNetwork("blue");
        registry.deleteHost("h1");
        assertThat(registry.networks()).isEmpty();
        assertThat(registry.hosts()).isEmpty();
        assertThat(store.range(RegistryService.STORE_PREFIX).entries()).isEmpty();
        assertThatThrownBy(() -> registry.deleteHost("h1")).hasMessageContaining("host h1 is not registered");
        // The id and the address are free again.
        registry.createNetwork("green", 7, "10.0.0.0/24");
        registry.registerHost("h2", "10.255.0.1");
    }

    @Test
    void aFollowerCatchesUpWithWhatAnotherInstanceWroteToTheStore() {
        RegistryService follower = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        Vm a = registry.createVm("a", "blue", "h1", null);
        registry.registerHost("h2", "10.255.0.2");
        assertThat(follower.vms()).isEmpty();
        follower.refresh();
        assertThat(follower.vms()).containsExactly(a);
        assertThat(follower.hostAssignments("h1").vms()).hasSize(1);
        assertThat(follower.host("h2")).isPresent();
        registry.deleteVm("a");
        follower.refresh();
        assertThat(follower.vms()).isEmpty();
        // What it refreshed is what it allocates from: the address and port are free again.
        assertThat(follower.createVm("b", "blue", "h1", null).address()).isEqualTo(a.address());
    }
}
