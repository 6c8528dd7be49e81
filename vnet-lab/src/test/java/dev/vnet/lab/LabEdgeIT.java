package dev.vnet.lab;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The public side of a lab with gateways, as root with real namespaces but without any process: the
 * underlay (no controller or agents are started) and {@link Lab#createEdge}, then the router's ECMP
 * route, its L4 hash spreading flows over both gateways, reachability from the clients, and taking a
 * gateway out of the route and back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LabEdgeIT {
    private static final String LAB = "edgeit";
    private static final String YAML = """
            name: edgeit
            underlay: {subnet: 10.255.0.0/24, mtu: 1400}
            hosts: [{name: host1, address: 10.255.0.1, location: zone-a}]
            networks: [{name: blue, id: 100, subnet: 10.0.0.0/24}]
            vms: []
            gateways:
              - {name: gw1, address: 10.255.0.21, public_address: 198.18.0.1, location: zone-a}
              - {name: gw2, address: 10.255.0.22, public_address: 198.18.0.2, location: zone-b}
            """;
    private Topology topology;

    @BeforeAll
    void up() {
        assumeTrue(Lab.isRoot(), "needs root for namespaces");
        Lab.down(LAB); // a run that was killed may have left it
        topology = Topology.parse(new ByteArrayInputStream(YAML.getBytes(StandardCharsets.UTF_8)), "edge.yaml");
        LabState state = LabState.create(LAB);
        Lab.createUnderlay(topology, state);
        Lab.createEdge(topology, state);
    }

    @AfterAll
    void down() {
        if (topology != null) {
            Lab.down(LAB);
            assertThat(Lab.namespacesOf(LAB)).isEmpty();
            assertThat(LabNames.labDir(LAB)).doesNotExist();
        }
    }

    private String router(String... command) {
        return ip(LabNames.routerNamespace(LAB), command);
    }

    private static String ip(String namespace, String... command) {
        java.util.List<String> full = new java.util.ArrayList<>(java.util.List.of("ip", "-n", namespace));
        full.addAll(java.util.List.of(command));
        return Shell.run(full).orThrow().output();
    }

    @Test
    void theRouterSpreadsTheVipPrefixOverBothGatewaysByTheL4Hash() {
        String route = router("route", "show", "to", "exact", "203.0.113.0/24");
        assertThat(route).contains("nexthop via 198.19.1.2 dev g1").contains("nexthop via 198.19.2.2 dev g2");
        assertThat(router("route", "show", "198.18.0.1/32")).contains("via 198.19.1.2 dev g1");
        assertThat(router("route", "show", "198.18.0.2/32")).contains("via 198.19.2.2 dev g2");
        assertThat(Shell.run("ip", "netns", "exec", LabNames.routerNamespace(LAB), "sysctl", "-n",
                "net.ipv4.fib_multipath_hash_policy", "net.ipv4.ip_forward").orThrow().output().lines()).containsExactly("1", "1");
        assertThat(router("link", "show", "g1")).contains("mtu 1356");
        assertThat(ip(LabNames.gatewayNamespace(LAB, "gw2"), "link", "show", "public0")).contains("mtu 1356");
        assertThat(Lab.routedGateways(topology)).containsExactly("gw1", "gw2");

        // The same destination, different source ports: the L4 hash sends some flows to each gateway.
        Set<String> devices = new HashSet<>();
        Pattern device = Pattern.compile("dev (g\\d+)");
        for (int port = 40000; port < 40064; port++) {
            Matcher m = device.matcher(router("route", "get", "203.0.113.10", "from", "192.0.2.2", "iif", "clients0",
                    "ipproto", "tcp", "sport", Integer.toString(port), "dport", "80"));
            assertThat(m.find()).isTrue();
            devices.add(m.group(1));
        }
        assertThat(devices).containsExactlyInAnyOrder("g1", "g2");
    }

    @Test
    void eachGatewayIsOnTheUnderlayAndReachableFromTheClients() {
        String gw1 = LabNames.gatewayNamespace(LAB, "gw1");
        assertThat(ip(gw1, "addr", "show", "underlay0")).contains("10.255.0.21/24");
        assertThat(ip(gw1, "route", "show", "default")).contains("via 198.19.1.1 dev public0");
        assertThat(Shell.run("ip", "netns", "exec", gw1, "sysctl", "-n", "net.ipv4.conf.all.rp_filter",
                "net.ipv4.conf.public0.rp_filter", "net.ipv4.ip_forward").orThrow().output().lines()).containsExactly("0", "0", "1");
        assertThat(ip(LabNames.publicNamespace(LAB), "addr", "show", "eth0")).contains("192.0.2.2/24");
        for (String address : new String[]{"192.0.2.1", "198.19.1.2", "198.19.2.2"}) {
            assertThat(Shell.run("ip", "netns", "exec", LabNames.publicNamespace(LAB), "ping", "-c", "1", "-W", "2", address).ok())
                    .as("the client pings %s", address).isTrue();
        }
        assertThat(Shell.run("ip", "netns", "exec", gw1, "ping", "-c", "1", "-W", "2", "10.255.0.22").ok())
                .as("gw1 reaches gw2 on the underlay").isTrue();
    }

    @Test
    void aGatewayLeavesTheRouteAndComesBack() {
        try {
            Lab.removeGatewayRoute(topology, "gw1");
            assertThat(Lab.routedGateways(topology)).containsExactly("gw2");
            assertThat(router("route", "show", "198.18.0.1/32")).as("its own address stays routed").contains("dev g1");
            Lab.removeGatewayRoute(topology, "gw2");
            assertThat(Lab.routedGateways(topology)).isEmpty();
            Lab.restoreGatewayRoute(topology, "gw2");
            assertThat(Lab.routedGateways(topology)).containsExactly("gw2");
        } finally {
            Lab.restoreGatewayRoute(topology, "gw1");
            Lab.restoreGatewayRoute(topology, "gw2");
        }
        assertThat(Lab.routedGateways(topology)).containsExactly("gw1", "gw2");
        assertThat(router("route", "show", "to", "exact", "203.0.113.0/24")).contains("nexthop via 198.19.1.2 dev g1");
    }
}
