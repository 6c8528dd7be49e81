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

    @Test
    void emptyOrMissingFilesAreClearErrors() {
        assertThatThrownBy(() -> parse("")).isInstanceOf(LabException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> parse("name: t")).isInstanceOf(LabException.class).hasMessageContaining("underlay.subnet");
        assertThatThrownBy(() -> Topology.read(Path.of("/nonexistent.yaml"))).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> parse(": : :")).isInstanceOf(LabException.class).hasMessageContaining("test.yaml");
    }
}
