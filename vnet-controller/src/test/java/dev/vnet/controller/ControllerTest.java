package dev.vnet.controller;

import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.graph.GraphException;
import dev.vnet.controller.graph.ResourceGraph;
import dev.vnet.controller.graph.Resource;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.Vm;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ControllerTest {
    private record Published(long version, Set<String> hosts) {
    }

    private final InMemoryConfigStore store = new InMemoryConfigStore();
    private final List<Published> published = new ArrayList<>();
    private final HostChangeSink sink = new HostChangeSink() {
        @Override
        public synchronized void publish(long version, Set<String> hosts) {
            published.add(new Published(version, Set.copyOf(hosts)));
        }

        @Override
        public synchronized void forget(Set<String> hosts) {
            forgotten.addAll(hosts);
        }

        @Override
        public SyncStatus awaitApplied(long version, Duration timeout) {
            return new SyncStatus(true, List.of());
        }
    };
    private final Set<String> forgotten = new java.util.HashSet<>();

    private Controller start() {
        return new Controller(store, new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()), sink);
    }

    @Test
    void theRegistryHoldsWhatTheGraphAllocatedAndTheHostsSharingTheNetworkAreTold() {
        Controller controller = start();
        String project = controller.createProject("p").value().id();
        Resource h1 = controller.createHost("h1", "10.255.0.1").value();
        Resource h2 = controller.createHost("h2", "10.255.0.2").value();
        controller.createHost("h3", "10.255.0.3");
        String network = controller.createNetwork(project, "blue").value().id();
        String subnet = controller.createSubnet(network, "s", "10.0.0.0/24").value().id();
        Resource portA = controller.createPort(subnet, "a", null).value();
        Resource portB = controller.createPort(subnet, "b", "10.0.0.9").value();
        var a = controller.createVm(project, "a", h1.id(), List.of(portA.id()));
        var b = controller.createVm(project, "b", h2.id(), List.of(portB.id()));

        Vm registered = controller.registry().vms().stream().filter(v -> v.name().equals(b.value().id())).findFirst().orElseThrow();
        assertThat(Ipv4Address.toString(registered.address())).isEqualTo("10.0.0.9");
        assertThat(MacAddress.toString(registered.mac())).isEqualTo(portB.attributes().get("mac_address"));
        assertThat(registered.port()).isEqualTo(b.value().attributes().get("host_port"));
        assertThat(registered.host()).isEqualTo("h2");
        assertThat(registered.network()).isEqualTo(network);
        assertThat(published).containsExactly(new Published(a.version(), Set.of("h1")), new Published(b.version(), Set.of("h1", "h2")));
        assertThat(b.version()).isGreaterThan(a.version());

        published.clear();
        var deleted = controller.delete(a.value().id(), false);
        assertThat(published).containsExactly(new Published(deleted.version(), Set.of("h1", "h2")));
        assertThat(controller.registry().vms()).extracting(Vm::name).containsExactly(b.value().id());
    }

    @Test
    void dataPlaneLimitsAreRefusedWithAReasonAndWriteNothing() {
        Controller controller = start();
        String project = controller.createProject("p").value().id();
        Resource host = controller.createHost("h1", "10.255.0.1").value();
        String network = controller.createNetwork(project, "blue").value().id();
        String subnet = controller.createSubnet(network, "s", "10.0.0.0/24").value().id();
        String p1 = controller.createPort(subnet, "p1", null).value().id();
        String p2 = controller.createPort(subnet, "p2", null).value().id();
        long before = store.revision();

        assertThatThrownBy(() -> controller.createSubnet(network, "t", "10.1.0.0/24"))
                .isInstanceOf(GraphException.class).hasMessageContaining("a network has one subnet for now");
        assertThatThrownBy(() -> controller.createVm(project, "v", host.id(), List.of(p1, p2)))
                .isInstanceOf(GraphException.class).hasMessageContaining("exactly one port");
        assertThatThrownBy(() -> controller.createHost("h2", "10.255.0.1"))
                .isInstanceOf(GraphException.class).hasMessageContaining("is already host h1's");
        assertThatThrownBy(() -> controller.createHost("admin", "10.255.0.9"))
                .isInstanceOf(GraphException.class).hasMessageContaining("administrator's identity");
        assertThatThrownBy(() -> controller.createHost("h2", "239.1.1.1"))
                .isInstanceOf(GraphException.class).hasMessageContaining("not a unicast address");
        assertThat(store.revision()).isEqualTo(before);

        // Overlapping subnets of two networks: the same address, hence the same MAC, in each.
        controller.createVm(project, "v", host.id(), List.of(p1));
        String green = controller.createNetwork(project, "green").value().id();
        String greenSubnet = controller.createSubnet(green, "s", "10.0.0.0/24").value().id();
        String sameAddress = controller.createPort(greenSubnet, "p", null).value().id();
        controller.createVm(project, "w", host.id(), List.of(sameAddress));
        assertThat(controller.registry().vms()).hasSize(2).extracting(Vm::mac).containsOnly(controller.registry().vms().getFirst().mac());
    }

    @Test
    void aForcedDeleteOfANetworkRemovesItsVmsFromTheRegistry() {
        Controller controller = start();
        String project = controller.createProject("p").value().id();
        Resource host = controller.createHost("h1", "10.255.0.1").value();
        String network = controller.createNetwork(project, "blue").value().id();
        String subnet = controller.createSubnet(network, "s", "10.0.0.0/24").value().id();
        String port = controller.createPort(subnet, "p", null).value().id();
        controller.createVm(project, "v", host.id(), List.of(port));

        assertThatThrownBy(() -> controller.delete(network, false)).isInstanceOf(GraphException.class);
        assertThat(controller.registry().vms()).hasSize(1);
        controller.delete(network, true);
        assertThat(controller.registry().vms()).isEmpty();
        assertThat(controller.registry().networks()).isEmpty();
        assertThat(controller.registry().hosts()).hasSize(1);
        assertThat(forgotten).isEmpty();

        controller.delete(host.id(), true); // the VM, unbound from its port, is still on the host
        assertThat(controller.registry().hosts()).isEmpty();
        assertThat(forgotten).as("nothing waits for a deleted host").containsExactly("h1");
    }

    /** The store, failing the commits of registry VM records while {@code failRegistryVms} is set. */
    private static final class FailingStore extends dev.vnet.store.ForwardingConfigStore {
        volatile boolean failRegistryVms;

        FailingStore() {
            super(new InMemoryConfigStore());
        }

        @Override
        public dev.vnet.store.TxnResult commit(dev.vnet.store.Txn txn) {
            if (failRegistryVms && txn.success().stream().anyMatch(op -> op instanceof dev.vnet.store.Op.Put put
                    && put.key().startsWith(RegistryService.STORE_PREFIX + "vms/"))) {
                throw new IllegalStateException("the store is unavailable");
            }
            return super.commit(txn);
        }
    }

    @Test
    void aRegistryWriteTheStoreFailedAfterItsGraphWriteIsRepairedByTheNextWrite() {
        FailingStore failing = new FailingStore();
        Controller controller = new Controller(failing, new RegistryService(failing, RegistryService.STORE_PREFIX, RegistryConfig.defaults()), sink);
        String project = controller.createProject("p").value().id();
        Resource host = controller.createHost("h1", "10.255.0.1").value();
        String network = controller.createNetwork(project, "blue").value().id();
        String subnet = controller.createSubnet(network, "s", "10.0.0.0/24").value().id();
        String port = controller.createPort(subnet, "a", null).value().id();

        failing.failRegistryVms = true;
        assertThatThrownBy(() -> controller.createVm(project, "a", host.id(), List.of(port))).hasMessageContaining("unavailable");
        assertThat(controller.list(dev.vnet.controller.graph.Kind.VM)).hasSize(1);
        assertThat(controller.registry().vms()).isEmpty();

        failing.failRegistryVms = false;
        published.clear();
        var next = controller.createProject("q");
        assertThat(controller.registry().vms()).extracting(Vm::name)
                .containsExactly(controller.list(dev.vnet.controller.graph.Kind.VM).getFirst().id());
        assertThat(published).as("the repaired VM's host was told").anySatisfy(p -> assertThat(p.hosts()).contains("h1"));
        assertThat(next.version()).isGreaterThan(0);
    }

    @Test
    void aCrashBetweenTheGraphWriteAndTheRegistryWriteIsRepairedAtStart() {
        // The graph alone, as a controller that died before its registry write would have left it.
        String vmId;
        try (ResourceGraph graph = new ResourceGraph(store)) {
            String project = graph.createProject("p").id();
            String host = graph.createHost("h1", "10.255.0.1").id();
            String network = graph.createNetwork(project, "blue").id();
            String subnet = graph.createSubnet(network, "s", "10.0.0.0/24").id();
            String port = graph.createPort(subnet, "p", null).id();
            vmId = graph.createVm(project, "v", host, List.of(port)).id();
        }
        RegistryService stale = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        stale.registerHost("gone", "10.255.0.77");

        Controller controller = new Controller(store, stale, sink);
        assertThat(controller.registry().vms()).extracting(Vm::name).containsExactly(vmId);
        assertThat(controller.registry().hosts()).extracting(h -> h.name()).containsExactly("h1");
        // A second start finds nothing to repair.
        long revision = store.revision();
        start();
        assertThat(store.revision()).isEqualTo(revision);
    }
}
