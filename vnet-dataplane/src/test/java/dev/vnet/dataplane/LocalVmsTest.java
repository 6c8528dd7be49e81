package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.Counters;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalVmsTest {
    private final Counters counters = Counters.inMemory(64);

    private LocalVm vm(String name, int network, String address) {
        return new LocalVm(name, network, Ipv4Address.parse(address), 24, 0x02_00_00_00_00_01L, 48000, new byte[32],
                null, null, false, counters);
    }

    @Test
    void vmsComeAndGoWhileLookupsSeeEitherTheOldOrTheNewTable() {
        LocalVms locals = new LocalVms();
        LocalVm a = vm("a", 1, "10.0.0.2");
        LocalVm sameAddressOtherNetwork = vm("b", 2, "10.0.0.2");
        locals.add(a);
        locals.add(sameAddressOtherNetwork);
        assertThat(locals.find(1, Ipv4Address.parse("10.0.0.2"))).isSameAs(a);
        assertThat(locals.find(2, Ipv4Address.parse("10.0.0.2"))).isSameAs(sameAddressOtherNetwork);

        assertThatThrownBy(() -> locals.add(vm("c", 1, "10.0.0.2"))).hasMessageContaining("have the address of c");
        assertThat(locals.find(1, Ipv4Address.parse("10.0.0.2"))).isSameAs(a);

        LocalVm replacement = vm("a2", 1, "10.0.0.2");
        locals.remove(replacement); // not the VM held there: nothing happens
        assertThat(locals.find(1, Ipv4Address.parse("10.0.0.2"))).isSameAs(a);
        locals.remove(a);
        assertThat(locals.find(1, Ipv4Address.parse("10.0.0.2"))).isNull();
        locals.add(replacement);
        assertThat(locals.find(1, Ipv4Address.parse("10.0.0.2"))).isSameAs(replacement);
    }
}
