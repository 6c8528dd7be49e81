package dev.vnet.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopologyTest {
    private static final String VALID = """
            name: t
            underlay: {subnet: 10.255.0.0/24}
            hosts: [{name: h1, address: 10.255.0.1}, {name: h2, address: 10.255.0.2}]
            networks: [{name: blue, id: 100, subnet: 10.0.0.0/24}, {name: red, id: 200, subnet: 10.0.0.0/24}]
            vms:
              - {name: b1, network: blue, host: h1, ip: 10.0.0.1}
              - {name: r1, network: red, host: h1, ip: 10.0.0.1}
              - {name: r2, network: red, host: h2}
            """;

    private static Topology parse(String yaml) {
        return Topology.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yaml");
    }

    @Test
    void defaultsPutTheControllerOnTheUnderlaysLastHostAddress() {
        Topology topology = parse(VALID);
        assertThat(topology.mtu()).isEqualTo(1500);
        assertThat(topology.controllerAddress()).isEqualTo("10.255.0.254");
        assertThat(topology.controllerPort()).isEqualTo(47800);
        assertThat(topology.vms().get(2).ip()).as("no ip: the controller assigns one").isNull();
        Topology placed = parse(VALID.replace("hosts:", "controller: {address: 10.255.0.9, port: 5000}\nhosts:"));
        assertThat(placed.controllerAddress()).isEqualTo("10.255.0.9");
        assertThat(placed.controllerPort()).isEqualTo(5000);
        Topology oldName = parse(VALID.replace("hosts:", "registry: {address: 10.255.0.9, port: 5000}\nhosts:"));
        assertThat(oldName.controllerAddress()).as("registry: is the controller's old name").isEqualTo("10.255.0.9");
    }

    @Test
    void theClusterTopologyPutsItsNodesBelowTheControllersAddress() {
        Topology cluster = Topology.cluster();
        assertThat(cluster.controllerNodes()).isEqualTo(2);
        assertThat(cluster.controllerAddress(0)).isEqualTo("10.255.0.254");
        assertThat(cluster.controllerAddress(1)).isEqualTo("10.255.0.253");
        assertThat(Topology.demo().controllerNodes()).isEqualTo(1);
    }

    @Test
    void theDemoTopologyHasOverlappingNetworksAndASameHostPair() {
        Topology demo = Topology.demo();
        assertThat(demo.networks()).extracting(Topology.Network::subnet).containsOnly("10.0.0.0/24");
        assertThat(demo.vms()).filteredOn(vm -> vm.network().equals("blue") && vm.host().equals("host1")).hasSize(2);
        assertThat(Topology.read(Path.of("../examples/two-hosts.yaml")).vms()).hasSize(6);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
            "'name: t'|'name: Bad'|lab name 'Bad'",
            "'ip: 10.0.0.1}'|'ip: 10.9.0.1}'|vm b1: 10.9.0.1 is not a host address of 10.0.0.0/24",
            "'ip: 10.0.0.1}'|'ip: 10.0.0.0}'|vm b1: 10.0.0.0 is not a host address",
            "'network: blue, host: h1'|'network: green, host: h1'|vm b1: no network named 'green'",
            "'host: h1, ip: 10.0.0.1}'|'host: h9, ip: 10.0.0.1}'|vm b1: no host named 'h9'",
            "'underlay: {subnet: 10.255.0.0/24}'|'underlay: {subnet: 10.255.0.0/24, mtu: 100}'|underlay.mtu must be 576-65535",
            "'hosts:'|'controller: {address: 10.1.0.1}\nhosts:'|controller: 10.1.0.1 is outside the underlay",
            "'hosts:'|'controller: {address: 10.255.0.0, nodes: 2}\nhosts:'|controller node 2: 10.254.255.255 is outside the underlay",
            "'hosts:'|'controller: {nodes: 6}\nhosts:'|controller.nodes must be 1-5",
            "'address: 10.255.0.2'|'address: 10.255.0.254'|host h2: underlay address 10.255.0.254 is used twice",
            "'address: 10.255.0.2'|'address: 10.254.0.2'|host h2: 10.254.0.2 is outside the underlay",
            "'subnet: 10.255.0.0/24'|'subnet: banana'|underlay: subnet 'banana' must be IPv4 CIDR",
            "'id: 200'|'id: 100'|id must be unique",
            "'name: r1'|'name: b1'|vm name 'b1' is used twice",
            "'name: t'|'name: t\nflavor: x'|Unrecognized field \"flavor\"",
            "'id: 100'|'id: lots'|at ",
    })
    void badTopologiesAreRejectedWithAReasonThatNamesTheEntry(String from, String to, String message) {
        String yaml = VALID.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to.replace("\\n", "\n")));
        assertThat(yaml).isNotEqualTo(VALID);
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(LabException.class).hasMessageContaining(message);
    }

    private static final String GATEWAYS = VALID + """
            gateways:
              - {name: g1, address: 10.255.0.21, public_address: 198.18.0.1, location: zone-a}
              - {name: g2, address: 10.255.0.22, public_address: 198.18.0.2}
            """;

    @Test
    void topologiesWithoutGatewaysHaveNoPublicSide() {
        Topology topology = parse(VALID);
        assertThat(topology.gatewayList()).isEmpty();
        assertThat(topology.hasGateways()).isFalse();
        assertThat(topology.publicSide()).isNull();
        assertThat(topology.hosts()).extracting(Topology.Host::location).containsOnly("");
        assertThat(Topology.demo().gatewayList()).isEmpty();
        assertThat(parse(VALID + "gateways: []\n").hasGateways()).isFalse();
        assertThat(new Topology.Host("h1", "10.255.0.1").location()).isEmpty();
    }

    @Test
    void gatewaysGetThePublicSidesDefaultsAndNumberedLinks() {
        Topology topology = parse(GATEWAYS);
        assertThat(topology.gatewayList()).extracting(Topology.Gateway::name).containsExactly("g1", "g2");
        assertThat(topology.gatewayList()).extracting(Topology.Gateway::publicAddress).containsExactly("198.18.0.1", "198.18.0.2");
        assertThat(topology.gatewayList()).extracting(Topology.Gateway::location).containsExactly("zone-a", "");
        assertThat(topology.publicSubnet()).isEqualTo("192.0.2.0/24");
        assertThat(topology.vips()).isEqualTo("203.0.113.0/24");
        assertThat(topology.publicRouterAddress()).isEqualTo("192.0.2.1");
        assertThat(topology.publicClientAddress()).isEqualTo("192.0.2.2");
        assertThat(topology.publicPrefixLength()).isEqualTo(24);
        assertThat(topology.gatewayIndex("g2")).isEqualTo(2);
        assertThat(Topology.gatewayLinkRouterAddress(2)).isEqualTo("198.19.2.1");
        assertThat(Topology.gatewayLinkAddress(2)).isEqualTo("198.19.2.2");
        assertThat(topology.edgeMtu()).isEqualTo(1456);
        assertThatThrownBy(() -> topology.gateway("g9")).hasMessageContaining("no gateway named 'g9'");

        Topology placed = parse(GATEWAYS + "public: {subnet: 100.64.0.0/29, vips: 100.65.0.0/16}\n");
        assertThat(placed.publicRouterAddress()).isEqualTo("100.64.0.1");
        assertThat(placed.publicClientAddress()).isEqualTo("100.64.0.2");
        assertThat(placed.vips()).isEqualTo("100.65.0.0/16");
        assertThat(parse(GATEWAYS + "public: {vips: 100.65.0.0/16}\n").publicSubnet()).as("one default, one given")
                .isEqualTo("192.0.2.0/24");
    }

    @Test
    void withNameKeepsTheGatewaysAndThePublicSide() {
        Topology topology = parse(GATEWAYS + "public: {subnet: 100.64.0.0/24}\n").withName("other");
        assertThat(topology.name()).isEqualTo("other");
        assertThat(topology.gatewayList()).hasSize(2);
        assertThat(topology.publicSubnet()).isEqualTo("100.64.0.0/24");
        assertThat(Topology.demo().withName("x").gatewayList()).isEmpty();
    }

    @Test
    void theGatewaysTopologyHasTwoGatewaysInTwoLocations() {
        Topology topology = Topology.gateways();
        assertThat(topology.name()).isEqualTo("gw");
        assertThat(topology.hosts()).extracting(Topology.Host::name, Topology.Host::address, Topology.Host::location).containsExactly(
                org.assertj.core.groups.Tuple.tuple("host1", "10.255.0.1", "zone-a"),
                org.assertj.core.groups.Tuple.tuple("host2", "10.255.0.2", "zone-a"),
                org.assertj.core.groups.Tuple.tuple("host3", "10.255.0.3", "zone-b"));
        assertThat(topology.vms()).extracting(Topology.Vm::name, Topology.Vm::host, Topology.Vm::ip).containsExactly(
                org.assertj.core.groups.Tuple.tuple("web1", "host1", "10.0.0.11"),
                org.assertj.core.groups.Tuple.tuple("web2", "host2", "10.0.0.12"),
                org.assertj.core.groups.Tuple.tuple("web3", "host3", "10.0.0.13"));
        assertThat(topology.gatewayList()).containsExactly(
                new Topology.Gateway("gw1", "10.255.0.21", "198.18.0.1", "zone-a"),
                new Topology.Gateway("gw2", "10.255.0.22", "198.18.0.2", "zone-b"));
        assertThat(Topology.read(Path.of("../examples/gateways.yaml"))).isEqualTo(topology);
    }

    @ParameterizedTest(name = "{2}")
    @CsvSource(delimiter = '|', value = {
            "'name: g2'|'name: g1'|gateway name 'g1' is used twice",
            "'name: g2'|'name: G2'|gateway name 'G2' must be",
            "'address: 10.255.0.22'|'address: 10.255.0.2'|gateway g2: underlay address 10.255.0.2 is used twice",
            "'address: 10.255.0.22'|'address: 10.255.0.21'|gateway g2: underlay address 10.255.0.21 is used twice",
            "'address: 10.255.0.22'|'address: 10.255.0.254'|gateway g2: underlay address 10.255.0.254 is used twice",
            "'address: 10.255.0.22'|'address: 10.9.0.22'|gateway g2: 10.9.0.22 is outside the underlay",
            "'address: 10.255.0.22'|'address: 10.255.0.22/32'|gateway g2: address '10.255.0.22/32' must be a plain IPv4 address",
            "'public_address: 198.18.0.2'|'public_address: 198.18.0.1'|gateway g2: public_address 198.18.0.1 is used twice",
            "'public_address: 198.18.0.2'|'public_address: banana'|gateway g2: public_address: address 'banana'",
            "'public_address: 198.18.0.2'|'public_address: 198.18.0.0/24'|must be a plain IPv4 address",
            "', public_address: 198.18.0.2'|''|gateway g2: needs public_address",
            "'public_address: 198.18.0.2'|'public_address: 192.0.2.9'|gateway g2: public_address 192.0.2.9 is inside 192.0.2.0/24",
            "'public_address: 198.18.0.2'|'public_address: 198.19.2.2'|is inside 198.19.0.0/16",
            "'public_address: 198.18.0.2'|'public_address: 10.255.0.99'|is inside 10.255.0.0/24",
            "'location: zone-a}'|'location: zone-a, zone: b}'|Unrecognized field \"zone\"",
            "'gateways:'|'public: {subnet: 192.0.2.0/31}\ngateways:'|needs room for the router and a client",
            "'gateways:'|'public: {vips: 192.0.2.128/25}\ngateways:'|public: 192.0.2.0/24 overlaps 192.0.2.128/25",
            "'gateways:'|'public: {subnet: 10.255.0.0/16}\ngateways:'|overlaps 10.255.0.0/24",
            "'gateways:'|'public: {vips: 198.19.0.0/24}\ngateways:'|overlaps 198.19.0.0/16",
            "'gateways:'|'public: {vips: nope}\ngateways:'|public.vips: subnet 'nope' must be IPv4 CIDR",
            "'gateways:'|'public: {subnet: 192.0.2.0/24, dns: x}\ngateways:'|Unrecognized field \"dns\"",
    })
    void badGatewaysAreRejectedWithAReasonThatNamesTheEntry(String from, String to, String message) {
        String yaml = GATEWAYS.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to.replace("\\n", "\n")));
        assertThat(yaml).isNotEqualTo(GATEWAYS);
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(LabException.class).hasMessageContaining(message);
    }

    @Test
    void aPublicSideNeedsGatewaysAndHostsTakeALocation() {
        assertThatThrownBy(() -> parse(VALID + "public: {subnet: 192.0.2.0/24}\n")).isInstanceOf(LabException.class)
                .hasMessageContaining("public: the public side needs gateways");
        Topology located = parse(VALID.replace("address: 10.255.0.1}", "address: 10.255.0.1, location: zone-a}"));
        assertThat(located.hosts()).extracting(Topology.Host::location).containsExactly("zone-a", "");
    }

    @Test
    void emptyOrMissingFilesAreClearErrors() {
        assertThatThrownBy(() -> parse("")).isInstanceOf(LabException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> parse("name: t")).isInstanceOf(LabException.class).hasMessageContaining("underlay.subnet");
        assertThatThrownBy(() -> Topology.read(Path.of("/nonexistent.yaml"))).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> parse(": : :")).isInstanceOf(LabException.class).hasMessageContaining("test.yaml");
    }
}
