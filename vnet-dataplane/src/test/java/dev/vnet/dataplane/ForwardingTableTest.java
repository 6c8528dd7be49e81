package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.Counters;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ForwardingTableTest {
    private final Counters counters = Counters.inMemory(64);
    private final RemoteHost host = new RemoteHost("h2", 2, 47900, MemorySegment.NULL);

    @Test
    void overlappingAddressesLiveInSeparateNetworks() {
        VmPort blue = new VmPort("blue1", 1, 0x02_00_00_00_00_01L, 10, null, counters);
        VmPort red = new VmPort("red1", 2, 0x02_00_00_00_00_02L, 10, null, counters);
        ForwardingTable table = ForwardingTable.builder().network(1, "blue").network(2, "red").local(blue).local(red).build();

        assertThat(table.network(1).byIp(10)).isSameAs(blue);
        assertThat(table.network(2).byIp(10)).isSameAs(red);
        assertThat(table.network(1).byMac(red.mac())).isNull();
        assertThat(table.localPort(red.mac())).isSameAs(red);
        assertThat(table.network(3)).isNull();
    }

    @Test
    void rejectsConflictsWithClearReasons() {
        var builder = ForwardingTable.builder().network(1, "blue");
        builder.remote(new RemoteVm("a", 1, 5, 10, host));
        assertThatThrownBy(() -> builder.remote(new RemoteVm("b", 1, 6, 10, host)))
                .hasMessageContaining("address of b already used by a");
        assertThatThrownBy(() -> builder.remote(new RemoteVm("c", 1, 5, 11, host)))
                .hasMessageContaining("MAC of c already used by a");
        assertThatThrownBy(() -> builder.remote(new RemoteVm("d", 9, 7, 12, host)))
                .hasMessageContaining("unknown network 9");
        assertThatThrownBy(() -> builder.network(0, "zero")).hasMessageContaining("reserved");
        assertThatThrownBy(() -> builder.network(1, "other")).hasMessageContaining("share id 1");
    }
}
