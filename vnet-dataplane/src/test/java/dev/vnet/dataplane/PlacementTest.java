package dev.vnet.dataplane;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlacementTest {
    @TempDir
    Path dir;

    private static Placement placement(List<Placement.Vm> vms) {
        return new Placement(47900, 1500,
                List.of(new Placement.Host("h1", "10.255.0.1"), new Placement.Host("h2", "10.255.0.2")),
                List.of(new Placement.Network("blue", 100, "10.0.0.0/24")), vms);
    }

    private static Placement.Vm vm(String name, String mac) {
        return new Placement.Vm(name, "blue", "h1", "10.0.0.1", mac, "ns-" + name, "vtap1");
    }

    @Test
    void roundTripsThroughJsonAndComputesTheVmMtu() throws Exception {
        Placement placement = placement(List.of(vm("a", "02:00:00:00:00:01")));
        Path file = dir.resolve("p.json");
        placement.write(file);
        assertThat(Placement.read(file)).isEqualTo(placement);
        assertThat(placement.vmMtu()).isEqualTo(1450);
    }

    @Test
    void namesWhatIsWrong() {
        assertThatThrownBy(() -> placement(List.of(vm("a", "01:00:00:00:00:01"))).validate())
                .hasMessageContaining("vm a: MAC 01:00:00:00:00:01 is multicast");
        assertThatThrownBy(() -> placement(List.of(vm("a", "02:00:00:00:00:01"), vm("b", "02:00:00:00:00:01"))).validate())
                .hasMessageContaining("vm b");
        assertThatThrownBy(() -> placement(List.of(new Placement.Vm("a", "green", "h1", "10.0.0.1", "02:00:00:00:00:01", "n", "t"))).validate())
                .hasMessageContaining("no network named 'green'");
        assertThatThrownBy(() -> placement(List.of(vm("Bad Name", "02:00:00:00:00:01"))).validate())
                .hasMessageContaining("vm name 'Bad Name'");
        assertThatThrownBy(() -> new Placement(0, 1500, List.of(), List.of(), List.of()).validate())
                .hasMessageContaining("underlay port");
    }
}
