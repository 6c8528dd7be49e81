package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.wire.Ipv4Address;
import io.grpc.Status;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static dev.vnet.registry.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

class AdminRequestsTest {
    private final RegistryHarness harness = new RegistryHarness();
    private final RegistryClient admin = harness.admin();

    @BeforeEach
    void setUp() {
        admin.createNetwork("blue", 0, "10.0.0.0/24");
        admin.registerHost("h1", "10.255.0.1");
        admin.registerHost("h2", "10.255.0.2");
        admin.createVm("blue1", "blue", "h1", null);
        admin.createVm("blue2", "blue", "h2", null);
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private record Bad(String what, ThrowingCallable call, Status.Code code, String reason) {
    }

    @Test
    void malformedOrConflictingRequestsAreRefusedWithAReasonAndChangeNothing() {
        List<Bad> requests = List.of(
                new Bad("empty network name", () -> admin.createNetwork("", 0, "10.1.0.0/24"), Status.Code.INVALID_ARGUMENT, "network name is empty"),
                new Bad("slash in name", () -> admin.createNetwork("a/b", 0, "10.1.0.0/24"), Status.Code.INVALID_ARGUMENT, "network name 'a/b' is invalid"),
                new Bad("long name", () -> admin.createNetwork("n".repeat(65), 0, "10.1.0.0/24"), Status.Code.INVALID_ARGUMENT, "is invalid"),
                new Bad("no prefix", () -> admin.createNetwork("green", 0, "10.1.0.0"), Status.Code.INVALID_ARGUMENT, "CIDR"),
                new Bad("host bits", () -> admin.createNetwork("green", 0, "10.1.0.5/24"), Status.Code.INVALID_ARGUMENT, "did you mean 10.1.0.0/24"),
                new Bad("/31", () -> admin.createNetwork("green", 0, "10.1.0.0/31"), Status.Code.INVALID_ARGUMENT, "prefix length must be 1 to 30"),
                new Bad("bad octet", () -> admin.createNetwork("green", 0, "10.1.0.256/24"), Status.Code.INVALID_ARGUMENT, "invalid IPv4 address"),
                new Bad("network id taken", () -> admin.createNetwork("green", 1, "10.1.0.0/24"), Status.Code.ALREADY_EXISTS, "network id 1 is already used by network blue"),
                new Bad("network differs", () -> admin.createNetwork("blue", 0, "10.9.0.0/24"), Status.Code.ALREADY_EXISTS, "network blue already exists with id 1 and subnet 10.0.0.0/24"),
                new Bad("bad host address", () -> admin.registerHost("h3", "10.255.0"), Status.Code.INVALID_ARGUMENT, "invalid IPv4 address"),
                new Bad("zero host address", () -> admin.registerHost("h3", "0.0.0.0"), Status.Code.INVALID_ARGUMENT, "not a unicast address"),
                new Bad("multicast host", () -> admin.registerHost("h3", "224.0.0.1"), Status.Code.INVALID_ARGUMENT, "not a unicast address"),
                new Bad("host named admin", () -> admin.registerHost("admin", "10.255.0.3"), Status.Code.INVALID_ARGUMENT, "administrator's identity"),
                new Bad("host moves", () -> admin.registerHost("h1", "10.255.0.3"), Status.Code.ALREADY_EXISTS, "host h1 is already registered with address 10.255.0.1"),
                new Bad("address of another host", () -> admin.registerHost("h3", "10.255.0.1"), Status.Code.ALREADY_EXISTS, "already host h1's"),
                new Bad("empty vm name", () -> admin.createVm("", "blue", "h1", null), Status.Code.INVALID_ARGUMENT, "vm name is empty"),
                new Bad("unknown network", () -> admin.createVm("x", "green", "h1", null), Status.Code.NOT_FOUND, "network green does not exist"),
                new Bad("unknown host", () -> admin.createVm("x", "blue", "h9", null), Status.Code.NOT_FOUND, "host h9 is not registered"),
                new Bad("bad vm address", () -> admin.createVm("x", "blue", "h1", "10.0.0.x"), Status.Code.INVALID_ARGUMENT, "invalid IPv4 address"),
                new Bad("vm moves", () -> admin.createVm("blue1", "blue", "h2", null), Status.Code.ALREADY_EXISTS, "vm blue1 already exists in network blue on host h1 with address 10.0.0.2"),
                new Bad("vm readdressed", () -> admin.createVm("blue1", "blue", "h1", "10.0.0.9"), Status.Code.ALREADY_EXISTS, "vm blue1 already exists"),
                new Bad("delete unknown", () -> admin.deleteVm("nope"), Status.Code.NOT_FOUND, "vm nope does not exist"),
                new Bad("rule to unknown", () -> admin.allowPair("blue1", "nope"), Status.Code.NOT_FOUND, "vm nope does not exist"),
                new Bad("rule to self", () -> admin.allowPair("blue1", "blue1"), Status.Code.INVALID_ARGUMENT, "always reaches itself"),
                new Bad("gateway port 0", () -> admin.setGateway("blue", "gw", "10.255.0.9", 0), Status.Code.INVALID_ARGUMENT, "not a UDP port"),
                new Bad("gateway port too big", () -> admin.setGateway("blue", "gw", "10.255.0.9", 70000), Status.Code.INVALID_ARGUMENT, "not a UDP port"),
                new Bad("gateway of unknown network", () -> admin.setGateway("green", "gw", "10.255.0.9", 47000), Status.Code.NOT_FOUND, "network green does not exist"),
                new Bad("gateway without address", () -> admin.setGateway("blue", "gw", null, 47000), Status.Code.NOT_FOUND, "not a registered host; give its underlay address"),
                new Bad("gateway named admin", () -> admin.setGateway("blue", "admin", "10.255.0.9", 47000), Status.Code.INVALID_ARGUMENT, "administrator's identity"));
        var before = harness.snapshot();
        var networks = admin.listNetworks();
        var hosts = admin.listHosts();
        var vms = admin.listVms();
        for (Bad request : requests) {
            assertRefused(request.call(), request.code(), request.reason());
        }
        assertThat(harness.snapshot()).isEqualTo(before);
        assertThat(admin.listNetworks()).isEqualTo(networks);
        assertThat(admin.listHosts()).isEqualTo(hosts);
        assertThat(admin.listVms()).isEqualTo(vms);
        assertThat(admin.listAllowRules()).isEmpty();
        assertThat(admin.listGateways()).isEmpty();
    }

    @Test
    void creatingAgainWithTheSameParametersReturnsWhatExists() {
        byte[] key = harness.client("h1").getHostAssignments().vms().getFirst().key();
        var before = harness.snapshot();
        assertThat(admin.createNetwork("blue", 0, "10.0.0.0/24").id()).isEqualTo(1);
        assertThat(admin.createNetwork("blue", 1, "10.0.0.0/24").id()).isEqualTo(1);
        assertThat(admin.registerHost("h1", "10.255.0.1")).isEqualTo(new Host("h1", Ipv4Address.parse("10.255.0.1")));
        Vm again = admin.createVm("blue1", "blue", "h1", null);
        assertThat(admin.createVm("blue1", "blue", "h1", "10.0.0.2")).isEqualTo(again);
        assertThat(again.address()).isEqualTo(Ipv4Address.parse("10.0.0.2"));
        admin.allowPair("blue1", "blue2");
        var afterRule = harness.snapshot();
        admin.allowPair("blue1", "blue2");
        assertThat(harness.snapshot()).isEqualTo(afterRule);
        afterRule.remove(RegistryHarness.key(StoredRecords.ruleKey("blue1", "blue2")));
        assertThat(afterRule).isEqualTo(before);
        assertThat(harness.client("h1").getHostAssignments().vms().getFirst().key()).isEqualTo(key);
    }

    @Test
    void networkIdsAreSequentialUnlessGiven() {
        assertThat(admin.createNetwork("red", 0, "10.0.0.0/24").id()).isEqualTo(2);
        assertThat(admin.createNetwork("green", 100, "10.2.0.0/16").id()).isEqualTo(100);
        assertThat(admin.createNetwork("yellow", 0, "10.3.0.0/16").id()).isEqualTo(101);
        assertThat(admin.createNetwork("top", RegistryService.MAX_NETWORK_ID, "10.4.0.0/16").id()).isEqualTo(0xFFFF_FFFFL);
        assertThat(admin.createNetwork("wrapped", 0, "10.5.0.0/16").id()).isEqualTo(3);
        assertThat(admin.listNetworks()).extracting(Network::name).containsExactly("blue", "green", "red", "top", "wrapped", "yellow");
    }

    @Test
    void keysGoOnlyToTheVmsOwnHost() {
        HostAssignments h1 = harness.client("h1").getHostAssignments();
        HostAssignments h2 = harness.client("h2").getHostAssignments();
        assertThat(h1.host()).isEqualTo("h1");
        assertThat(h1.address()).isEqualTo(Ipv4Address.parse("10.255.0.1"));
        assertThat(h1.vms()).extracting(a -> a.vm().name()).containsExactly("blue1");
        assertThat(h2.vms()).extracting(a -> a.vm().name()).containsExactly("blue2");
        VmAssignment blue1 = h1.vms().getFirst();
        assertThat(blue1.key()).hasSize(32);
        assertThat(blue1.key()).isNotEqualTo(h2.vms().getFirst().key());
        assertThat(blue1.subnet()).hasToString("10.0.0.0/24");
        assertThat(blue1.vm()).isEqualTo(admin.listVms("blue", "h1").getFirst());
        assertThat(blue1.toString()).doesNotContain(Arrays.toString(blue1.key())).contains("key=sha256:");
        assertThat(h1.tokenTtl()).isEqualTo(RegistryConfig.DEFAULT_TOKEN_TTL);
        assertThat(h1.clockSkew()).isEqualTo(RegistryConfig.DEFAULT_CLOCK_SKEW);

        assertRefused(() -> harness.client("h9").getHostAssignments(), Status.Code.NOT_FOUND, "no host or gateway named h9");
        assertRefused(() -> admin.getHostAssignments(), Status.Code.PERMISSION_DENIED, "for host agents");
        assertThat(dev.vnet.registry.api.Vm.getDescriptor().getFields()).noneMatch(f -> f.getName().contains("key"));
    }

    @Test
    void onlyTheAdministratorMayAdminister() {
        RegistryClient h1 = harness.client("h1");
        var before = harness.snapshot();
        assertRefused(() -> h1.createNetwork("red", 0, "10.0.0.0/24"), Status.Code.PERMISSION_DENIED, "CreateNetwork is for the administrator; caller is 'h1'");
        assertRefused(() -> h1.createVm("x", "blue", "h1", null), Status.Code.PERMISSION_DENIED, "CreateVm is for the administrator");
        assertRefused(() -> h1.allowPair("blue1", "blue2"), Status.Code.PERMISSION_DENIED, "AllowPair");
        assertRefused(() -> h1.deleteVm("blue2"), Status.Code.PERMISSION_DENIED, "DeleteVm");
        assertRefused(() -> h1.setGateway("blue", "h1", null, 47000), Status.Code.PERMISSION_DENIED, "SetGateway");
        assertRefused(h1::listVms, Status.Code.PERMISSION_DENIED, "ListVms");
        assertThat(harness.snapshot()).isEqualTo(before);
    }

    @Test
    void listVmsFiltersByNetworkAndHost() {
        admin.createNetwork("red", 0, "10.0.0.0/24");
        admin.createVm("red1", "red", "h1", null);
        assertThat(admin.listVms()).extracting(Vm::name).containsExactly("blue1", "blue2", "red1");
        assertThat(admin.listVms("blue", null)).extracting(Vm::name).containsExactly("blue1", "blue2");
        assertThat(admin.listVms(null, "h1")).extracting(Vm::name).containsExactly("blue1", "red1");
        assertThat(admin.listVms("red", "h2")).isEmpty();
    }
}
