package dev.vnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.controller.cluster.HostOwnership;
import dev.vnet.lab.Lab;
import dev.vnet.lab.LabChecks;
import dev.vnet.lab.LabNames;
import dev.vnet.lab.LabState;
import dev.vnet.lab.RunningLab;
import dev.vnet.lab.Shell;
import dev.vnet.lab.Topology;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.vnet.cli.VnetRun.vnet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two controller nodes on an etcd member and four hosts they split between them (the built-in
 * cluster topology), as root with real namespaces, agents and ping: the nodes exchange their hosts' VM
 * routes by iBGP, VMs on hosts of different nodes reach each other, routes go only where their network
 * has a VM, and when a node is SIGKILLed its
 * hosts move to the survivor within 5 s while established traffic loses nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabClusterIT {
    private static final String LAB = "cluit";
    private static final List<String> NODES = List.of(LabNames.controllerNodeId(0), LabNames.controllerNodeId(1));
    private RunningLab lab;

    @BeforeAll
    void up() {
        assumeTrue(Lab.isRoot(), "needs root for namespaces and TAP devices");
        Lab.down(LAB);
        lab = Lab.up(Topology.cluster().withName(LAB), Launchers.sameJvm());
    }

    @AfterAll
    void down() {
        if (lab != null) {
            List<Long> pids = LabState.load(LAB).map(s -> s.agents().stream().map(LabState.Agent::pid).toList()).orElse(List.of());
            lab.down();
            assertThat(Lab.namespacesOf(LAB)).isEmpty();
            pids.forEach(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid " + pid).isFalse());
        }
    }

    private static String ownerOf(String host) {
        return HostOwnership.ownerOf(host, NODES).orElseThrow();
    }

    private JsonNode routes(String host) throws IOException {
        return new ObjectMapper().readTree(LabNames.routesFile(LAB, host).toFile());
    }

    @Test
    @Order(1)
    void vmsOnHostsOfDifferentNodesReachEachOtherAndRoutesGoOnlyWhereTheirNetworkIs() throws Exception {
        assertThat(lab.topology().hosts().stream().map(h -> ownerOf(h.name())).distinct()).as("both nodes own hosts").hasSize(2);
        LabChecks check = new LabChecks(lab);
        for (String to : List.of("blue2", "blue3", "blue4")) {
            assertThat(check.ping("blue1", lab.vm(to).address()).passed()).as("blue1 -> " + to).isTrue();
        }
        assertThat(check.ping("red1", lab.vm("red2").address()).passed()).as("red1 -> red2").isTrue();
        for (String host : List.of("host1", "host2", "host3", "host4")) {
            long redRoutes = 0;
            for (JsonNode route : routes(host)) {
                redRoutes += route.path("network_id").asLong() == 200 ? 1 : 0;
                // Learned from the nodes' BGP Loc-RIBs (which name no host), not read from the store.
                assertThat(route.path("host").asText()).as(host + ": " + route).isEmpty();
                assertThat(route.path("encapsulation").asText()).isEqualTo("vnp");
            }
            assertThat(redRoutes).as(host + "'s routes of red").isEqualTo(host.equals("host1") || host.equals("host2") ? 2 : 0);
        }
    }

    @Test
    @Order(2)
    void aKilledNodesHostsMoveWithin5SecondsWhileTrafficGoesOnAndNewVmsAreReachable() throws Exception {
        int victim = 1; // node 0 serves the lab's API socket
        String victimId = NODES.get(victim);
        List<String> moving = lab.topology().hosts().stream().map(h -> h.name()).filter(h -> ownerOf(h).equals(victimId)).toList();
        String survivorAddress = lab.topology().controllerAddress(0) + ":" + lab.topology().controllerPort();
        assertThat(moving).isNotEmpty();
        String movingVm = lab.vms().stream().filter(vm -> vm.host().equals(moving.getFirst()) && vm.network().equals("blue"))
                .findFirst().orElseThrow().name();
        String stayingVm = lab.vms().stream().filter(vm -> !moving.contains(vm.host()) && vm.network().equals("blue"))
                .findFirst().orElseThrow().name();
        assertThat(new LabChecks(lab).ping(stayingVm, lab.vm(movingVm).address()).passed()).isTrue();

        // 120 pings, 50 ms apart, across the kill: agents forward with what they hold.
        Process pings = new ProcessBuilder("ip", "netns", "exec", lab.vm(stayingVm).namespace(), "ping", "-q", "-c", "120", "-i", "0.05",
                "-W", "1", lab.vm(movingVm).address()).redirectErrorStream(true).start();
        Thread.sleep(500);
        ProcessHandle node = Lab.controllerProcess(LAB, victim).orElseThrow();
        long killed = System.nanoTime();
        node.destroyForcibly();
        node.onExit().get(10, TimeUnit.SECONDS);

        for (String host : moving) {
            String upAtSurvivor = "channel of " + host + " up at " + survivorAddress;
            long deadline = killed + TimeUnit.SECONDS.toNanos(15);
            while (!Files.readString(LabNames.agentLog(LAB, host)).contains(upAtSurvivor) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            double seconds = (System.nanoTime() - killed) / 1e9;
            System.out.printf("%s re-owned by %s %.2f s after its node was killed%n", host, NODES.getFirst(), seconds);
            assertThat(Files.readString(LabNames.agentLog(LAB, host))).contains(upAtSurvivor);
            assertThat(seconds).as(host + " re-owned within 5 s").isLessThan(5.0);
        }
        assertThat(pings.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(pings.getInputStream().readAllBytes())).as("ping across the node's death").contains(" 0% packet loss");

        // A VM created now on a moved host is set up by its agent, and reachable.
        String created = vnet("vm", "create", "blue5", "--lab", LAB, "--host", moving.getFirst(), "--network", "blue", "--wait", "--json");
        String address = new ObjectMapper().readTree(created).path("vm").path("ip_address").asText();
        assertThat(Shell.run(Duration.ofSeconds(15), List.of("ip", "netns", "exec", lab.vm(stayingVm).namespace(), "ping", "-c", "3",
                "-W", "2", address)).ok()).as(stayingVm + " -> the new blue5").isTrue();
    }
}
