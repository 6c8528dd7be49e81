package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.wire.Ipv4Address;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static dev.vnet.registry.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

/** A VM's additional addresses (allowed address pairs). blue 10.0.0.0/24: blue1 on h1, blue2 on h2. */
class AdditionalAddressesTest {
    private static final int VIP = Ipv4Address.parse("203.0.113.10");
    private static final int INSIDE_VIP = Ipv4Address.parse("10.0.0.100");

    private final RegistryHarness harness = new RegistryHarness();
    private final RegistryClient admin = harness.admin();
    private Vm blue1;

    @BeforeEach
    void setUp() {
        admin.createNetwork("blue", 0, "10.0.0.0/24");
        admin.registerHost("h1", "10.255.0.1");
        admin.registerHost("h2", "10.255.0.2");
        blue1 = admin.createVm("blue1", "blue", "h1", null);
        admin.createVm("blue2", "blue", "h2", null);
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private static List<Integer> addresses(String... texts) {
        return Arrays.stream(texts).map(Ipv4Address::parse).toList();
    }

    @Test
    void aVmsAdditionalAddressesAreListedInOrderAndReachItsHostsAgent() {
        assertThat(blue1.additionalAddresses()).isEmpty();
        Vm updated = admin.setVmAdditionalAddresses("blue1", addresses("203.0.113.10", "10.0.0.100"));

        assertThat(updated).isEqualTo(blue1.withAdditionalAddresses(List.of(INSIDE_VIP, VIP)));
        assertThat(updated.toString()).contains("10.0.0.2 +10.0.0.100,203.0.113.10");
        assertThat(admin.listVms("blue", "h1")).containsExactly(updated);
        assertThat(harness.registry.vm("blue1")).contains(updated);
        HostAssignments h1 = harness.client("h1").getHostAssignments();
        assertThat(h1.vms()).singleElement().satisfies(a -> {
            assertThat(a.vm()).isEqualTo(updated);
            assertThat(a.vm().additionalAddresses()).containsExactly(INSIDE_VIP, VIP);
        });
        assertThat(harness.client("h2").getHostAssignments().vms().getFirst().vm().additionalAddresses()).isEmpty();
        assertThat(harness.store.get(RegistryHarness.key("vms/blue1")).orElseThrow().valueAsString())
                .contains("\"additionalAddresses\":[\"10.0.0.100\",\"203.0.113.10\"]");
    }

    @Test
    void theSameAddressesInAnyOrderChangeNothingAndAnEmptyListRemovesThem() {
        byte[] key = harness.client("h1").getHostAssignments().vms().getFirst().key();
        admin.setVmAdditionalAddresses("blue1", addresses("203.0.113.10", "10.0.0.100"));
        var before = harness.snapshot();
        admin.setVmAdditionalAddresses("blue1", addresses("10.0.0.100", "203.0.113.10"));
        assertThat(harness.snapshot()).isEqualTo(before);

        assertThat(admin.setVmAdditionalAddresses("blue1", List.of())).isEqualTo(blue1);
        assertThat(harness.store.get(RegistryHarness.key("vms/blue1")).orElseThrow().valueAsString())
                .as("a VM without additional addresses is stored as before they existed").doesNotContain("additionalAddresses");
        assertThat(harness.client("h1").getHostAssignments().vms().getFirst().key()).as("the key stays").isEqualTo(key);
    }

    @Test
    void anAddressMayBeOutsideTheSubnetAndOnSeveralVmsAndTokensIgnoreIt() {
        admin.setVmAdditionalAddresses("blue1", List.of(VIP, INSIDE_VIP));
        assertThat(admin.setVmAdditionalAddresses("blue2", List.of(VIP)).additionalAddresses()).containsExactly(VIP);
        assertRefused(() -> harness.client("h2").requestToken("blue2", INSIDE_VIP).join(), Status.Code.NOT_FOUND,
                "no vm with address 10.0.0.100 in network blue");
        assertRefused(() -> harness.client("h2").requestToken("blue2", VIP).join(), Status.Code.NOT_FOUND, "no gateway");
    }

    @Test
    void badAddressesAreRefusedAndChangeNothing() {
        admin.setVmAdditionalAddresses("blue1", List.of(VIP));
        var before = harness.snapshot();
        assertRefused(() -> admin.setVmAdditionalAddresses("nope", List.of(VIP)), Status.Code.NOT_FOUND, "vm nope does not exist");
        assertRefused(() -> admin.setVmAdditionalAddresses("blue1", addresses("10.0.0.100", "0.0.0.0")), Status.Code.INVALID_ARGUMENT,
                "additional address 0.0.0.0 of vm blue1 is not a unicast address");
        assertRefused(() -> admin.setVmAdditionalAddresses("blue1", addresses("224.0.0.5")), Status.Code.INVALID_ARGUMENT, "not a unicast address");
        assertRefused(() -> admin.setVmAdditionalAddresses("blue1", addresses("255.255.255.255")), Status.Code.INVALID_ARGUMENT,
                "not a unicast address");
        assertRefused(() -> admin.setVmAdditionalAddresses("blue1", addresses("10.0.0.100", "10.0.0.100")), Status.Code.INVALID_ARGUMENT,
                "additional address 10.0.0.100 of vm blue1 is listed twice");
        assertRefused(() -> admin.setVmAdditionalAddresses("blue1", addresses("10.0.0.2")), Status.Code.INVALID_ARGUMENT,
                "additional address 10.0.0.2 is vm blue1's own address");
        assertRefused(() -> harness.registry.setVmAdditionalAddresses("blue1", null), Status.Code.INVALID_ARGUMENT, "an empty list removes them");
        assertRefused(() -> harness.registry.setVmAdditionalAddresses("blue1", Arrays.asList(VIP, null)), Status.Code.INVALID_ARGUMENT,
                "an additional address of vm blue1 is missing");
        assertRefused(() -> harness.client("h1").setVmAdditionalAddresses("blue1", List.of()), Status.Code.PERMISSION_DENIED,
                "SetVmAdditionalAddresses is for the administrator");
        assertThat(harness.snapshot()).isEqualTo(before);
        assertThat(harness.registry.vm("blue1").orElseThrow().additionalAddresses()).containsExactly(VIP);
    }

    @Test
    void anUnparsableAddressOverGrpcIsAnInvalidArgument() {
        var request = dev.vnet.registry.api.SetVmAdditionalAddressesRequest.newBuilder().setVm("blue1").addAddresses("10.0.0.300").build();
        assertRefused(() -> {
            try {
                dev.vnet.registry.api.RegistryGrpc.newBlockingStub(harness.channel(RegistryService.ADMIN_IDENTITY)).setVmAdditionalAddresses(request);
            } catch (io.grpc.StatusRuntimeException e) {
                throw RegistryException.from(e);
            }
        }, Status.Code.INVALID_ARGUMENT, "additional address: ");
    }
}
