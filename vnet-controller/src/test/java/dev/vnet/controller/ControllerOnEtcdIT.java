package dev.vnet.controller;

import dev.vnet.controller.graph.Kind;
import dev.vnet.controller.graph.Resource;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.Vm;
import dev.vnet.store.EtcdCluster;
import dev.vnet.store.EtcdConfigStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The controller on a real 3-member etcd cluster: VMs are created one after another while the etcd
 * leader is SIGKILLed. Writes go on after the election, every acknowledged VM is in the graph and in
 * the registry, and a write the crash cut off between the two is repaired, so the registry holds
 * exactly the graph's VMs, also after a restart of the controller.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ControllerOnEtcdIT {
    @Test
    void writesGoOnWhenTheEtcdLeaderIsKilledAndTheRegistryKeepsMatchingTheGraph() throws Exception {
        try (EtcdCluster cluster = EtcdCluster.start(3);
             EtcdConfigStore store = EtcdConfigStore.connect(cluster.clientUrls())) {
            Controller controller = start(store);
            String project = controller.createProject("p").value().id();
            String host = controller.createHost("h1", "10.255.0.1").value().id();
            String network = controller.createNetwork(project, "blue").value().id();
            String subnet = controller.createSubnet(network, "s", "10.0.0.0/16").value().id();

            List<String> acknowledged = new CopyOnWriteArrayList<>();
            List<String> failures = new CopyOnWriteArrayList<>();
            AtomicBoolean killed = new AtomicBoolean();
            AtomicInteger acknowledgedAfterKill = new AtomicInteger();
            Thread writer = Thread.ofPlatform().start(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                for (int i = 0; acknowledgedAfterKill.get() < 30 && System.nanoTime() < deadline; i++) {
                    boolean afterKill = killed.get();
                    try {
                        String port = controller.createPort(subnet, "p" + i, null).value().id();
                        acknowledged.add(controller.createVm(project, "v" + i, host, List.of(port)).value().id());
                        if (afterKill) {
                            acknowledgedAfterKill.incrementAndGet();
                        }
                    } catch (RuntimeException e) { // not acknowledged: may or may not be there
                        failures.add("v" + i + ": " + e.getMessage());
                        sleep(100);
                    }
                }
            });
            while (acknowledged.size() < 30 && writer.isAlive()) {
                Thread.sleep(10);
            }
            EtcdCluster.Member leader = cluster.leader();
            cluster.kill(leader);
            killed.set(true);
            writer.join(TimeUnit.SECONDS.toMillis(120));

            assertThat(acknowledgedAfterKill.get()).as("VMs acknowledged after killing %s (failures: %s)", leader, failures)
                    .isGreaterThanOrEqualTo(30);
            controller.createProject("after"); // a write after any failed one: the controller repairs first
            assertAgree(controller, acknowledged);
            controller.close();

            Controller restarted = start(store);
            assertAgree(restarted, acknowledged);
            restarted.close();
        }
    }

    private static Controller start(EtcdConfigStore store) {
        return new Controller(store, new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()), HostChangeSink.NONE);
    }

    /** Every acknowledged VM is in the graph, and the registry holds exactly the graph's VMs. */
    private static void assertAgree(Controller controller, List<String> acknowledged) {
        Set<String> graphVms = controller.list(Kind.VM).stream().map(Resource::id).collect(Collectors.toSet());
        Set<String> registryVms = controller.registry().vms().stream().map(Vm::name).collect(Collectors.toSet());
        assertThat(graphVms).containsAll(acknowledged);
        assertThat(registryVms).isEqualTo(graphVms);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
