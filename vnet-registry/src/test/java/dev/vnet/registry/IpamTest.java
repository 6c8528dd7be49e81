package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.vnet.registry.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

class IpamTest {
    private final RegistryHarness harness = new RegistryHarness();
    private final RegistryClient admin = harness.admin();

    @AfterEach
    void close() {
        harness.close();
    }

    private void twoHostsAndANetwork(String subnet) {
        admin.createNetwork("blue", 0, subnet);
        admin.registerHost("h1", "10.255.0.1");
        admin.registerHost("h2", "10.255.0.2");
    }

    @Test
    void autoAssignmentStartsAfterTheReservedGatewayAddressAndFillsUpward() {
        twoHostsAndANetwork("10.0.0.0/24");
        assertThat(Ipam.RESERVED_GATEWAY_OFFSET).isEqualTo(1);
        Vm first = admin.createVm("a", "blue", "h1", null);
        Vm second = admin.createVm("b", "blue", "h2", "");
        assertThat(Ipv4Address.toString(first.address())).isEqualTo("10.0.0.2");
        assertThat(Ipv4Address.toString(second.address())).isEqualTo("10.0.0.3");
    }

    @Test
    void theSubnetGatewayIsTheReservedFirstHostAddressOfAnySubnetWithRoomForIt() {
        assertThat(Ipv4Address.toString(Ipam.subnetGateway(Ipv4Address.parse("10.0.0.13"), 24))).isEqualTo("10.0.0.1");
        assertThat(Ipv4Address.toString(Ipam.subnetGateway(Ipv4Address.parse("172.16.7.200"), 20))).isEqualTo("172.16.0.1");
        assertThat(Ipv4Address.toString(Ipam.subnetGateway(Ipv4Address.parse("10.9.8.6"), 30))).isEqualTo("10.9.8.5");
        assertThat(Ipv4Address.toString(Ipam.subnetGateway(Ipv4Address.parse("10.9.8.7"), 0))).isEqualTo("0.0.0.1");
        assertThat(Ipam.subnetGateway(Ipv4Address.parse("10.9.8.6"), 31)).isEqualTo(Ipam.NO_GATEWAY);
        assertThat(Ipam.subnetGateway(Ipv4Address.parse("10.9.8.6"), 32)).isEqualTo(Ipam.NO_GATEWAY);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ipam.subnetGateway(0, 33)).hasMessageContaining("0-32");
    }

    @Test
    void aRequestedAddressIsUsedWhenFreeAndTheGapsBelowAreFilledLater() {
        twoHostsAndANetwork("10.0.0.0/24");
        assertThat(Ipv4Address.toString(admin.createVm("a", "blue", "h1", "10.0.0.9").address())).isEqualTo("10.0.0.9");
        assertThat(Ipv4Address.toString(admin.createVm("b", "blue", "h1", null).address())).isEqualTo("10.0.0.2");
        assertThat(Ipv4Address.toString(admin.createVm("c", "blue", "h1", "10.0.0.254").address())).isEqualTo("10.0.0.254");
    }

    @Test
    void aRequestedAddressThatCannotBeGivenIsRefusedWithTheReason() {
        twoHostsAndANetwork("10.0.0.0/24");
        admin.createVm("a", "blue", "h1", "10.0.0.5");
        assertRefused(() -> admin.createVm("b", "blue", "h1", "10.0.0.1"), Status.Code.INVALID_ARGUMENT, "reserved for the gateway of 10.0.0.0/24");
        assertRefused(() -> admin.createVm("b", "blue", "h1", "10.0.0.0"), Status.Code.INVALID_ARGUMENT, "network address");
        assertRefused(() -> admin.createVm("b", "blue", "h1", "10.0.0.255"), Status.Code.INVALID_ARGUMENT, "broadcast address");
        assertRefused(() -> admin.createVm("b", "blue", "h1", "10.0.1.5"), Status.Code.INVALID_ARGUMENT, "outside network blue's subnet");
        assertRefused(() -> admin.createVm("b", "blue", "h1", "10.0.0.5"), Status.Code.ALREADY_EXISTS, "already used by vm a");
    }

    @Test
    void anExhaustedSubnetIsRefusedAndChangesNothing() {
        twoHostsAndANetwork("10.0.0.0/29");
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            addresses.add(Ipv4Address.toString(admin.createVm("vm" + i, "blue", "h1", null).address()));
        }
        assertThat(addresses).containsExactly("10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6");
        var before = harness.snapshot();
        assertRefused(() -> admin.createVm("vm5", "blue", "h1", null), Status.Code.RESOURCE_EXHAUSTED, "network blue has no free address in 10.0.0.0/29");
        assertThat(harness.snapshot()).isEqualTo(before);

        admin.deleteVm("vm2");
        assertThat(Ipv4Address.toString(admin.createVm("vm5", "blue", "h1", null).address())).isEqualTo("10.0.0.4");
    }

    @Test
    void overlappingSubnetsInTwoNetworksAssignTheSameAddressesIndependently() {
        twoHostsAndANetwork("10.0.0.0/24");
        admin.createNetwork("red", 0, "10.0.0.0/24");
        Vm blue = admin.createVm("blue1", "blue", "h1", null);
        Vm red = admin.createVm("red1", "red", "h1", null);
        assertThat(red.address()).isEqualTo(blue.address());
        assertThat(red.networkId()).isNotEqualTo(blue.networkId());
        assertThat(red.port()).isNotEqualTo(blue.port());
        assertThat(red.mac()).isNotEqualTo(blue.mac());
        admin.createVm("red2", "red", "h1", "10.0.0.7");
        assertThat(Ipv4Address.toString(admin.createVm("blue2", "blue", "h1", "10.0.0.7").address())).isEqualTo("10.0.0.7");
    }

    @Test
    void portsComeFromTheConfiguredRangeUniquePerHost() {
        try (RegistryHarness small = new RegistryHarness(RegistryConfig.defaults().withPortRange(50000, 50001),
                new dev.vnet.store.InMemoryConfigStore())) {
            RegistryClient smallAdmin = small.admin();
            smallAdmin.createNetwork("blue", 0, "10.0.0.0/24");
            smallAdmin.registerHost("h1", "10.255.0.1");
            smallAdmin.registerHost("h2", "10.255.0.2");
            assertThat(smallAdmin.createVm("a", "blue", "h1", null).port()).isEqualTo(50000);
            assertThat(smallAdmin.createVm("b", "blue", "h1", null).port()).isEqualTo(50001);
            assertThat(smallAdmin.createVm("c", "blue", "h2", null).port()).isEqualTo(50000);
            var before = small.snapshot();
            assertRefused(() -> smallAdmin.createVm("d", "blue", "h1", null), Status.Code.RESOURCE_EXHAUSTED, "host h1 has no free port in 50000-50001");
            assertThat(small.snapshot()).isEqualTo(before);
        }
    }

    @Test
    void defaultPortsAndMacs() {
        twoHostsAndANetwork("10.0.0.0/24");
        Vm a = admin.createVm("a", "blue", "h1", null);
        Vm b = admin.createVm("b", "blue", "h1", null);
        assertThat(a.port()).isEqualTo(47901);
        assertThat(b.port()).isEqualTo(47902);
        assertThat(MacAddress.toString(a.mac())).isEqualTo("02:56:4e:00:00:00");
        assertThat(MacAddress.toString(b.mac())).isEqualTo("02:56:4e:00:00:01");
        assertThat(MacAddress.isLocallyAdministered(a.mac())).isTrue();
        assertThat(MacAddress.isMulticast(a.mac())).isFalse();
    }

    @Test
    void twoHundredParallelCreatesGetUniqueAddressesPortsAndMacs() throws Exception {
        twoHostsAndANetwork("10.0.0.0/24");
        int count = 200;
        ExecutorService pool = Executors.newFixedThreadPool(32);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Vm>> results = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String name = "vm" + i;
                String host = i % 2 == 0 ? "h1" : "h2";
                results.add(pool.submit(() -> {
                    start.await();
                    return admin.createVm(name, "blue", host, null);
                }));
            }
            start.countDown();
            Set<Integer> addresses = new TreeSet<>();
            Set<String> hostPorts = new HashSet<>();
            Set<Long> macs = new HashSet<>();
            for (Future<Vm> result : results) {
                Vm vm = result.get();
                addresses.add(vm.address());
                hostPorts.add(vm.host() + ":" + vm.port());
                macs.add(vm.mac());
            }
            assertThat(addresses).hasSize(count);
            assertThat(hostPorts).hasSize(count);
            assertThat(macs).hasSize(count);
            assertThat(addresses).allSatisfy(address -> assertThat(Integer.compareUnsigned(address, Ipv4Address.parse("10.0.0.2"))).isNotNegative());
            assertThat(admin.listVms()).hasSize(count);
            assertThat(harness.recordKeys(StoredRecords.VMS)).hasSize(count);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void lowestFreeWalksTheUsedValuesUpToTheFirstGap() {
        TreeSet<Long> used = new TreeSet<>(List.of(2L, 3L, 5L, 9L));
        assertThat(Ipam.lowestFree(used, 2, 10)).isEqualTo(4);
        assertThat(Ipam.lowestFree(used, 0, 10)).isEqualTo(0);
        assertThat(Ipam.lowestFree(used, 5, 10)).isEqualTo(6);
        assertThat(Ipam.lowestFree(used, 2, 3)).isEqualTo(-1);
        assertThat(Ipam.lowestFree(new TreeSet<>(), 7, 7)).isEqualTo(7);
    }
}
