package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpToken;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.vnet.registry.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokens a gateway asks for to carry outside packets to a VM. blue 10.0.0.0/24: blue1 on h1 (10.255.0.1),
 * blue2 on h2 (10.255.0.2); its gateways gw1 10.255.1.1:47000 and gw2 10.255.1.2:47001. red
 * 10.1.0.0/24: red1 on h2, its gateway gwr.
 */
class IngressTokenTest {
    private static final int OUTSIDE = Ipv4Address.parse("93.184.216.34");

    private final RegistryHarness harness = new RegistryHarness();
    private final RegistryClient admin = harness.admin();
    private Vm blue2;
    private Vm red1;

    @BeforeEach
    void setUp() {
        admin.createNetwork("blue", 0, "10.0.0.0/24");
        admin.createNetwork("red", 0, "10.1.0.0/24");
        admin.registerHost("h1", "10.255.0.1");
        admin.registerHost("h2", "10.255.0.2");
        admin.createVm("blue1", "blue", "h1", null);
        blue2 = admin.createVm("blue2", "blue", "h2", null);
        red1 = admin.createVm("red1", "red", "h2", null);
        admin.setGateway("blue", "gw1", "10.255.1.1", 47000);
        admin.setGateway("blue", "gw2", "10.255.1.2", 47001);
        admin.setGateway("red", "gwr", "10.255.1.3", 47000);
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private byte[] keyOf(String host, String vm) {
        return harness.client(host).getHostAssignments().vms().stream().filter(a -> a.vm().name().equals(vm)).findFirst().orElseThrow().key();
    }

    @Test
    void anIngressTokenIsKeyedWithTheDestinationVmsKeyOverTheGatewaysAddressAndPort() {
        TokenGrant grant = harness.client("gw1").requestIngressToken("blue", OUTSIDE, blue2.address()).join();

        long expiry = RegistryHarness.START_SECONDS + 600;
        assertThat(grant).isEqualTo(new TokenGrant(Ipv4Address.parse("10.255.0.2"), blue2.port(),
                new VnpToken(keyOf("h2", "blue2")).compute(Ipv4Address.parse("10.255.1.1"), 47000, OUTSIDE, blue2.address(), expiry),
                expiry, TokenGrant.Kind.VM));
        assertThat(harness.registry.issueIngressToken("gw1", "blue", OUTSIDE, blue2.address())).isEqualTo(grant);

        TokenGrant viaGw2 = harness.client("gw2").requestIngressToken("blue", OUTSIDE, blue2.address()).join();
        assertThat(viaGw2.token()).as("each gateway's tokens name its own address and port")
                .isEqualTo(new VnpToken(keyOf("h2", "blue2")).compute(Ipv4Address.parse("10.255.1.2"), 47001, OUTSIDE, blue2.address(), expiry))
                .isNotEqualTo(grant.token());

        harness.clockMillis.addAndGet(30_000);
        assertThat(harness.registry.issueIngressToken("gwr", "red", OUTSIDE, red1.address()).expiry()).isEqualTo(expiry + 30);
    }

    @Test
    void theChecksRunInOrderAndEachRefusalSaysWhy() {
        int inside = Ipv4Address.parse("10.0.0.200");
        int noVm = Ipv4Address.parse("10.0.0.77");
        RegistryClient gw1 = harness.client("gw1");
        // Each request fails every check from the one named on, so the first that fails is the one reported.
        assertRefused(() -> gw1.requestIngressToken("green", inside, noVm).join(), Status.Code.NOT_FOUND, "network green does not exist");
        assertRefused(() -> harness.client("gwr").requestIngressToken("blue", inside, noVm).join(), Status.Code.PERMISSION_DENIED,
                "gwr is not a gateway of network blue");
        assertRefused(() -> harness.client("h2").requestIngressToken("blue", OUTSIDE, blue2.address()).join(), Status.Code.PERMISSION_DENIED,
                "h2 is not a gateway of network blue");
        assertRefused(() -> gw1.requestIngressToken("blue", inside, noVm).join(), Status.Code.INVALID_ARGUMENT,
                "source address 10.0.0.200 is inside network blue's subnet 10.0.0.0/24: a gateway speaks for outside addresses only");
        assertRefused(() -> gw1.requestIngressToken("blue", OUTSIDE, noVm).join(), Status.Code.NOT_FOUND, "no vm with address 10.0.0.77 in network blue");
        assertRefused(() -> gw1.requestIngressToken("blue", OUTSIDE, red1.address()).join(), Status.Code.NOT_FOUND,
                "no vm with address 10.1.0.2 in network blue");
        assertRefused(() -> gw1.requestIngressToken("", OUTSIDE, blue2.address()).join(), Status.Code.INVALID_ARGUMENT, "network name is empty");
        assertRefused(() -> admin.requestIngressToken("blue", OUTSIDE, blue2.address()).join(), Status.Code.PERMISSION_DENIED, "for host agents");
        assertRefused(() -> harness.registry.issueIngressToken("gw1", null, OUTSIDE, blue2.address()), Status.Code.INVALID_ARGUMENT,
                "network name is empty");
    }

    @Test
    void aGatewayRemovedFromTheNetworkGetsNoMoreIngressTokens() {
        RegistryClient gw2 = harness.client("gw2");
        assertThat(gw2.requestIngressToken("blue", OUTSIDE, blue2.address()).join().kind()).isEqualTo(TokenGrant.Kind.VM);
        admin.deleteGateway("blue", "gw2");
        assertRefused(() -> gw2.requestIngressToken("blue", OUTSIDE, blue2.address()).join(), Status.Code.PERMISSION_DENIED,
                "gw2 is not a gateway of network blue");
    }
}
