package dev.vnet.controller.graph;

import dev.vnet.store.InMemoryConfigStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ResourceGraphTest {
    private final InMemoryConfigStore store = new InMemoryConfigStore();
    private ResourceGraph graph = new ResourceGraph(store);

    @AfterEach
    void close() {
        graph.close();
        store.close();
    }

    private record Tenant(Resource project, Resource network, Resource subnet, Resource host) {
    }

    private Tenant tenant(String name) {
        Resource project = graph.createProject(name);
        Resource network = graph.createNetwork(project.id(), "net");
        Resource subnet = graph.createSubnet(network.id(), "sub", "10.0.0.0/24");
        Resource host = graph.createHost("host-" + name, "10.255.0.1");
        return new Tenant(project, network, subnet, host);
    }

    private static GraphException.Reason reasonOf(Throwable t) {
        return ((GraphException) t).reason();
    }

    @Test
    void portsGetTheLowestFreeAddressAndAMacDerivedFromItAndVmsAHostPort() {
        Tenant t = tenant("p");
        Resource first = graph.createPort(t.subnet().id(), "a", null);
        Resource second = graph.createPort(t.subnet().id(), "b", null);
        Resource chosen = graph.createPort(t.subnet().id(), "c", "10.0.0.50");
        assertThat(first.attributes()).containsEntry("ip_address", "10.0.0.2").containsEntry("mac_address", "02:4e:0a:00:00:02");
        assertThat(second.attributes()).containsEntry("ip_address", "10.0.0.3");
        assertThat(chosen.attributes()).containsEntry("ip_address", "10.0.0.50");
        assertThat(t.network().attributes()).containsEntry("network_id", 1L);

        Resource vm1 = graph.createVm(t.project().id(), "vm1", t.host().id(), List.of(first.id()));
        Resource vm2 = graph.createVm(t.project().id(), "vm2", t.host().id(), List.of(second.id(), chosen.id()));
        assertThat(vm1.attributes()).containsEntry("host_port", ResourceGraph.FIRST_VM_PORT);
        assertThat(vm2.attributes()).containsEntry("host_port", ResourceGraph.FIRST_VM_PORT + 1);
        assertThat(vm2.uses()).containsExactlyInAnyOrder(t.host().id(), second.id(), chosen.id());
        assertThat(graph.get(first.id()).orElseThrow().usedBy()).containsExactly(vm1.id());
    }

    @Test
    void addressesOutsideReservedOrTakenAreRefusedWithTheReason() {
        Tenant t = tenant("p");
        graph.createPort(t.subnet().id(), "a", "10.0.0.9");
        assertThatThrownBy(() -> graph.createPort(t.subnet().id(), "b", "10.0.1.9"))
                .hasMessageContaining("outside").satisfies(e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.INVALID));
        assertThatThrownBy(() -> graph.createPort(t.subnet().id(), "b", "10.0.0.1")).hasMessageContaining("reserved");
        assertThatThrownBy(() -> graph.createPort(t.subnet().id(), "b", "10.0.0.9"))
                .hasMessageContaining("taken").satisfies(e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.CONFLICT));
        assertThatThrownBy(() -> graph.createPort(t.subnet().id(), "b", "not-an-ip")).satisfies(
                e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.INVALID));
        assertThat(graph.list(Kind.PORT)).hasSize(1);
    }

    @Test
    void overlappingSubnetsInANetworkAreRefusedButOtherNetworksMayReuseTheRange() {
        Tenant t = tenant("p");
        assertThatThrownBy(() -> graph.createSubnet(t.network().id(), "wide", "10.0.0.0/16"))
                .hasMessageContaining("overlaps").satisfies(e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.CONFLICT));
        assertThatThrownBy(() -> graph.createSubnet(t.network().id(), "bad", "10.0.0.1/24")).hasMessageContaining("host bits");
        Resource other = graph.createNetwork(t.project().id(), "other");
        assertThat(graph.createSubnet(other.id(), "same", "10.0.0.0/24").attributes()).containsEntry("cidr", "10.0.0.0/24");
        assertThat(other.attributes()).containsEntry("network_id", 2L);
    }

    @Test
    void createsAreIdempotentByNameAndConflictOnADifferentSpecification() {
        Tenant t = tenant("p");
        Resource again = graph.createSubnet(t.network().id(), "sub", "10.0.0.0/24");
        assertThat(again.id()).isEqualTo(t.subnet().id());
        assertThat(graph.createProject("p").id()).isEqualTo(t.project().id());
        assertThatThrownBy(() -> graph.createSubnet(t.network().id(), "sub", "10.0.1.0/24"))
                .hasMessageContaining("different specification");
        Resource port = graph.createPort(t.subnet().id(), "a", null);
        Resource vm = graph.createVm(t.project().id(), "vm", t.host().id(), List.of(port.id()));
        assertThat(graph.createVm(t.project().id(), "vm", t.host().id(), List.of(port.id())).id()).isEqualTo(vm.id());
        assertThatThrownBy(() -> graph.createProject("bad name")).hasMessageContaining("invalid project name");
    }

    @Test
    void aRequestedNetworkIdIsKeptIdempotentAcrossARestartAndRefusedWhenTaken() {
        Resource project = graph.createProject("p");
        Resource blue = graph.createNetwork(project.id(), "blue", 42L);
        assertThat(blue.attributes()).containsEntry("network_id", 42L);
        assertThatThrownBy(() -> graph.createNetwork(project.id(), "red", 42L))
                .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.CONFLICT));
        assertThatThrownBy(() -> graph.createNetwork(project.id(), "red", 1L << 24))
                .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.INVALID));
        assertThat(graph.createNetwork(project.id(), "red").attributes()).containsEntry("network_id", 1L);

        graph.close();
        graph = new ResourceGraph(store);
        assertThat(graph.createNetwork(project.id(), "blue", 42L).id()).isEqualTo(blue.id());
        assertThatThrownBy(() -> graph.createNetwork(project.id(), "blue", 43L)).hasMessageContaining("different specification");
    }

    @Test
    void deletingCascadesThroughOwnershipAndFreesWhatWasAllocated() {
        Tenant t = tenant("p");
        Resource port = graph.createPort(t.subnet().id(), "a", null);
        graph.createPort(t.subnet().id(), "b", null);
        Resource vm = graph.createVm(t.project().id(), "vm", t.host().id(), List.of(port.id()));

        graph.delete(vm.id(), false);
        assertThat(graph.get(port.id()).orElseThrow().usedBy()).isEmpty();
        graph.delete(port.id(), false);
        assertThat(graph.createPort(t.subnet().id(), "c", null).attributes()).containsEntry("ip_address", "10.0.0.2");
        assertThat(graph.createVm(t.project().id(), "vm2", t.host().id(), List.of()).attributes())
                .containsEntry("host_port", ResourceGraph.FIRST_VM_PORT);

        graph.delete(t.project().id(), true);
        assertThat(graph.list(Kind.PROJECT)).isEmpty();
        assertThat(graph.list(Kind.NETWORK)).isEmpty();
        assertThat(graph.list(Kind.SUBNET)).isEmpty();
        assertThat(graph.list(Kind.PORT)).isEmpty();
        assertThat(graph.list(Kind.VM)).isEmpty();
        assertThat(graph.get(t.host().id()).orElseThrow().usedBy()).isEmpty();
        Resource project = graph.createProject("q");
        assertThat(graph.createNetwork(project.id(), "n").attributes()).containsEntry("network_id", 1L);
    }

    @Test
    void deletingSomethingInUseIsRefusedWithTheUsersAndChangesNothingUnlessForced() {
        Tenant t = tenant("p");
        Resource port = graph.createPort(t.subnet().id(), "a", null);
        Resource vm = graph.createVm(t.project().id(), "vm", t.host().id(), List.of(port.id()));

        assertThatThrownBy(() -> graph.delete(t.network().id(), false))
                .hasMessageContaining("in use").hasMessageContaining("vm vm")
                .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.IN_USE));
        assertThat(graph.get(t.subnet().id())).isPresent();
        assertThat(graph.get(port.id())).isPresent();
        // The marks are lifted: the subtree takes new children again.
        graph.createPort(t.subnet().id(), "after-refusal", null);

        assertThatThrownBy(() -> graph.delete(t.host().id(), false)).hasMessageContaining("in use");

        graph.delete(t.network().id(), true);
        assertThat(graph.get(port.id())).isEmpty();
        assertThat(graph.get(vm.id()).orElseThrow().uses()).containsExactly(t.host().id());

        graph.delete(t.host().id(), true);
        assertThat(graph.get(vm.id())).as("a VM does not outlive its host").isEmpty();
    }

    @Test
    void unknownOwnersAndWrongKindsAreNotFound() {
        Tenant t = tenant("p");
        assertThatThrownBy(() -> graph.createSubnet("nope", "s", "10.1.0.0/24"))
                .satisfies(e -> assertThat(reasonOf(e)).isEqualTo(GraphException.Reason.NOT_FOUND));
        assertThatThrownBy(() -> graph.createPort(t.network().id(), "a", null)).hasMessageContaining("no subnet");
        assertThatThrownBy(() -> graph.createVm(t.project().id(), "vm", "no-host", List.of())).hasMessageContaining("no host");
        assertThatThrownBy(() -> graph.delete("nope", false)).hasMessageContaining("no resource");
    }

    @Test
    void portsOfAnotherProjectOrAlreadyBoundCannotBeUsed() {
        Tenant a = tenant("a");
        Tenant b = tenant("b");
        Resource portOfB = graph.createPort(b.subnet().id(), "x", null);
        assertThatThrownBy(() -> graph.createVm(a.project().id(), "vm", a.host().id(), List.of(portOfB.id())))
                .hasMessageContaining("another project");
        graph.createVm(b.project().id(), "vm1", b.host().id(), List.of(portOfB.id()));
        assertThatThrownBy(() -> graph.createVm(b.project().id(), "vm2", b.host().id(), List.of(portOfB.id())))
                .hasMessageContaining("already used");
        // The refused VM left nothing behind: not its name, not its host port.
        assertThat(graph.list(Kind.VM)).extracting(Resource::name).containsExactly("vm1");
        Resource port2 = graph.createPort(b.subnet().id(), "y", null);
        assertThat(graph.createVm(b.project().id(), "vm2", b.host().id(), List.of(port2.id())).attributes())
                .containsEntry("host_port", ResourceGraph.FIRST_VM_PORT + 1);
    }

    @Test
    void sixtyFourParallelCreatesNeverShareAnAddressOrAHostPort() throws Exception {
        Tenant t = tenant("p");
        int parallel = 64;
        List<Resource> ports = runTogether(parallel, i -> graph.createPort(t.subnet().id(), "port" + i, null));
        Set<Object> addresses = new HashSet<>();
        ports.forEach(p -> addresses.add(p.attributes().get("ip_address")));
        assertThat(addresses).hasSize(parallel);

        List<Resource> vms = runTogether(parallel,
                i -> graph.createVm(t.project().id(), "vm" + i, t.host().id(), List.of(ports.get(i).id())));
        Set<Object> hostPorts = new HashSet<>();
        vms.forEach(v -> hostPorts.add(v.attributes().get("host_port")));
        assertThat(hostPorts).hasSize(parallel);

        // Deletes racing with creates: every address in use is still held by exactly one port.
        List<Resource> mixed = runTogether(parallel, i -> {
            if (i % 2 == 0) {
                graph.delete(vms.get(i).id(), false);
                graph.delete(ports.get(i).id(), false);
                return null;
            }
            return graph.createPort(t.subnet().id(), "more" + i, null);
        });
        Set<Object> live = new HashSet<>();
        for (Resource port : graph.list(Kind.PORT)) {
            assertThat(live.add(port.attributes().get("ip_address"))).as("address of %s is unique", port.name()).isTrue();
        }
        assertThat(live).hasSize(parallel / 2 + parallel / 2);
        assertThat(mixed).isNotNull();
    }

    private interface Indexed<T> {
        T call(int index);
    }

    private static <T> List<T> runTogether(int count, Indexed<T> action) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(count);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int index = i;
                Callable<T> task = () -> {
                    start.await();
                    return action.call(index);
                };
                futures.add(pool.submit(task));
            }
            start.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get(30, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theGraphIsRebuiltFromTheStoreWithItsAllocationsAndLinks() {
        Tenant t = tenant("p");
        Resource a = graph.createPort(t.subnet().id(), "a", null);
        Resource b = graph.createPort(t.subnet().id(), "b", "10.0.0.7");
        Resource vm = graph.createVm(t.project().id(), "vm", t.host().id(), List.of(a.id(), b.id()));
        assertThatThrownBy(() -> graph.delete(t.network().id(), false)).hasMessageContaining("in use");
        graph.close();

        graph = new ResourceGraph(store);
        assertThat(graph.get(vm.id())).contains(vm);
        assertThat(graph.get(a.id()).orElseThrow().usedBy()).containsExactly(vm.id());
        assertThat(graph.createPort(t.subnet().id(), "c", null).attributes()).as("allocations recomputed")
                .containsEntry("ip_address", "10.0.0.3");
        assertThat(graph.createVm(t.project().id(), "vm2", t.host().id(), List.of()).attributes())
                .containsEntry("host_port", ResourceGraph.FIRST_VM_PORT + 1);
        assertThat(graph.createNetwork(t.project().id(), "n2").attributes()).containsEntry("network_id", 2L);
        assertThatThrownBy(() -> graph.delete(t.host().id(), false)).hasMessageContaining("in use");

        graph.delete(t.network().id(), true); // the VM loses its NICs, and its record says so
        graph.close();
        graph = new ResourceGraph(store);
        assertThat(graph.get(vm.id()).orElseThrow().uses()).containsExactly(t.host().id());
        assertThat(graph.list(Kind.PORT)).isEmpty();
    }
}
