package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpHeader;
import dev.vnet.wire.VnpToken;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.vnet.registry.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * blue 10.0.0.0/24: blue1 on h1, blue2 on h2. red 10.0.0.0/24 (overlapping): red1 on h2. Hosts h1
 * 10.255.0.1, h2 10.255.0.2; gw is blue's gateway (not a VM host) at 10.255.0.9:47000.
 */
class TokenIssueTest {
    private RegistryHarness harness;
    private RegistryClient admin;
    private RegistryClient h1;
    private RegistryClient h2;
    private Vm blue1;
    private Vm blue2;
    private Vm red1;

    @BeforeEach
    void setUp() {
        setUp(RegistryConfig.defaults());
    }

    private void setUp(RegistryConfig config) {
        if (harness != null) {
            harness.close();
        }
        harness = new RegistryHarness(config, new InMemoryConfigStore());
        admin = harness.admin();
        h1 = harness.client("h1");
        h2 = harness.client("h2");
        admin.createNetwork("blue", 0, "10.0.0.0/24");
        admin.createNetwork("red", 0, "10.0.0.0/24");
        admin.registerHost("h1", "10.255.0.1");
        admin.registerHost("h2", "10.255.0.2");
        blue1 = admin.createVm("blue1", "blue", "h1", null);
        blue2 = admin.createVm("blue2", "blue", "h2", null);
        red1 = admin.createVm("red1", "red", "h2", "10.0.0.3");
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private static byte[] keyOf(RegistryClient host, String vm) {
        return host.getHostAssignments().vms().stream().filter(a -> a.vm().name().equals(vm)).findFirst().orElseThrow().key();
    }

    /** HMAC-SHA256 through javax.crypto over the layout VnpToken documents, first 8 bytes. */
    private static long independentToken(byte[] key, int sourceHost, int sourcePort, int sourceVm, int destinationVm, long expiry) throws Exception {
        ByteBuffer message = ByteBuffer.allocate(18).putInt(sourceHost).putShort((short) sourcePort).putInt(sourceVm).putInt(destinationVm)
                .putInt((int) expiry);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return ByteBuffer.wrap(mac.doFinal(message.array())).getLong();
    }

    @Test
    void aTokenIsTheHmacOfTheDocumentedFieldsKeyedWithTheDestinationKey() throws Exception {
        TokenGrant grant = h1.requestToken("blue1", blue2.address()).join();

        long expiry = RegistryHarness.START_SECONDS + 600;
        assertThat(grant.kind()).isEqualTo(TokenGrant.Kind.VM);
        assertThat(grant.destinationHost()).isEqualTo(Ipv4Address.parse("10.255.0.2"));
        assertThat(grant.destinationPort()).isEqualTo(blue2.port());
        assertThat(grant.expiry()).isEqualTo(expiry);
        byte[] destinationKey = keyOf(h2, "blue2");
        int sourceHost = Ipv4Address.parse("10.255.0.1");
        assertThat(grant.token())
                .isEqualTo(independentToken(destinationKey, sourceHost, blue1.port(), blue1.address(), blue2.address(), expiry))
                .isEqualTo(new VnpToken(destinationKey).compute(sourceHost, blue1.port(), blue1.address(), blue2.address(), expiry));
    }

    @Test
    void expiryFollowsTheClockAndTheTtl() {
        harness.clockMillis.addAndGet(12_345_999);
        assertThat(h1.requestToken("blue1", blue2.address()).join().expiry()).isEqualTo(RegistryHarness.START_SECONDS + 12_345 + 600);

        setUp(RegistryConfig.defaults().withTokenTtl(java.time.Duration.ofSeconds(30)));
        assertThat(h1.requestToken("blue1", blue2.address()).join().expiry()).isEqualTo(RegistryHarness.START_SECONDS + 30);
    }

    @Test
    void aTtlOfNeverGivesTheNeverExpiryAndTheTokenCoversIt() throws Exception {
        setUp(RegistryConfig.defaults().withTokenTtl(RegistryConfig.TOKENS_NEVER_EXPIRE));
        TokenGrant grant = h1.requestToken("blue1", blue2.address()).join();
        assertThat(grant.expiry()).isEqualTo(VnpHeader.EXPIRY_NEVER);
        assertThat(grant.token()).isEqualTo(independentToken(keyOf(h2, "blue2"), Ipv4Address.parse("10.255.0.1"), blue1.port(),
                blue1.address(), blue2.address(), VnpHeader.EXPIRY_NEVER));
        assertThat(h1.getHostAssignments().tokenTtl()).isEqualTo(RegistryConfig.TOKENS_NEVER_EXPIRE);
    }

    @Test
    void aHostCannotRequestATokenForAnotherHostsVm() {
        assertRefused(() -> h1.requestToken("blue2", blue1.address()).join(), Status.Code.PERMISSION_DENIED, "vm blue2 does not run on host h1");
        assertRefused(() -> h1.requestToken("nosuchvm", blue1.address()).join(), Status.Code.PERMISSION_DENIED, "vm nosuchvm does not run on host h1");
        assertRefused(() -> admin.requestToken("blue1", blue2.address()).join(), Status.Code.PERMISSION_DENIED, "for host agents");
    }

    @Test
    void anAddressWithoutAVmIsNotFound() {
        assertRefused(() -> h1.requestToken("blue1", Ipv4Address.parse("10.0.0.77")).join(), Status.Code.NOT_FOUND,
                "no vm with address 10.0.0.77 in network blue");
        assertRefused(() -> h1.requestToken("blue1", blue2.address(), "green").join(), Status.Code.NOT_FOUND, "network green does not exist");
    }

    @Test
    void anotherNetworkNeedsAnAllowRuleInThatDirection() throws Exception {
        assertRefused(() -> h1.requestToken("blue1", red1.address(), "red").join(), Status.Code.PERMISSION_DENIED,
                "policy denies vm blue1 (network blue) -> vm red1 (network red)");

        admin.allowPair("blue1", "red1");
        TokenGrant grant = h1.requestToken("blue1", red1.address(), "red").join();
        assertThat(grant.destinationPort()).isEqualTo(red1.port());
        assertThat(grant.token()).isEqualTo(independentToken(keyOf(h2, "red1"), Ipv4Address.parse("10.255.0.1"), blue1.port(),
                blue1.address(), red1.address(), grant.expiry()));

        assertRefused(() -> h2.requestToken("red1", blue1.address(), "blue").join(), Status.Code.PERMISSION_DENIED,
                "policy denies vm red1 (network red) -> vm blue1 (network blue)");
    }

    @Test
    void theSameAddressResolvesInTheSourcesNetworkUnlessAnotherIsNamed() {
        // blue2 got 10.0.0.3 automatically; red1 asked for 10.0.0.3 in red.
        assertThat(red1.address()).isEqualTo(blue2.address());
        assertThat(h1.requestToken("blue1", red1.address()).join().destinationPort()).isEqualTo(blue2.port());
        assertThat(h1.requestToken("blue1", red1.address(), "blue").join().destinationPort()).isEqualTo(blue2.port());
    }

    @Test
    void anOutsideAddressGoesToTheNetworksGatewayKeyedWithTheGatewaysKey() throws Exception {
        int outside = Ipv4Address.parse("93.184.216.34");
        assertRefused(() -> h1.requestToken("blue1", outside).join(), Status.Code.NOT_FOUND, "no gateway");

        admin.setGateway("blue", "gw", "10.255.0.9", 47000);
        TokenGrant grant = h1.requestToken("blue1", outside).join();
        assertThat(grant.kind()).isEqualTo(TokenGrant.Kind.GATEWAY);
        assertThat(grant.destinationHost()).isEqualTo(Ipv4Address.parse("10.255.0.9"));
        assertThat(grant.destinationPort()).isEqualTo(47000);
        HostAssignments gateway = harness.client("gw").getHostAssignments();
        assertThat(gateway.vms()).isEmpty();
        assertThat(gateway.address()).isZero();
        assertThat(gateway.gateways()).singleElement().satisfies(g -> {
            assertThat(g.gateway().network()).isEqualTo("blue");
            assertThat(g.networkId()).isEqualTo(blue1.networkId());
            assertThat(g.subnet()).hasToString("10.0.0.0/24");
            assertThat(g.gateway().port()).isEqualTo(47000);
        });
        byte[] gatewayKey = gateway.gateways().getFirst().key();
        assertThat(grant.token()).isEqualTo(independentToken(gatewayKey, Ipv4Address.parse("10.255.0.1"), blue1.port(), blue1.address(),
                outside, grant.expiry()));

        assertRefused(() -> h2.requestToken("red1", outside).join(), Status.Code.NOT_FOUND, "network red's subnet 10.0.0.0/24 and the network has no gateway");
        assertRefused(() -> h1.requestToken("blue1", outside, "red").join(), Status.Code.NOT_FOUND, "outside its subnet");
    }

    @Test
    void aRegisteredHostCanBeAGatewayOfSeveralNetworksOnOnePortThatNoVmGets() {
        assertRefused(() -> admin.setGateway("blue", "h1", null, blue1.port()), Status.Code.ALREADY_EXISTS,
                "port " + blue1.port() + " on host h1 is already used by vm blue1");
        assertRefused(() -> admin.setGateway("blue", "h1", "10.255.0.7", 47000), Status.Code.INVALID_ARGUMENT, "host h1's underlay address is 10.255.0.1");
        Gateway gateway = admin.setGateway("blue", "h1", null, 48000);
        assertThat(gateway.address()).isEqualTo(Ipv4Address.parse("10.255.0.1"));
        assertThat(admin.setGateway("red", "h1", null, 48000)).isEqualTo(new Gateway("red", "h1", Ipv4Address.parse("10.255.0.1"), 48000));
        assertRefused(() -> harness.registry.createVm("blue3", "blue", "h1", null, null, 48000), Status.Code.ALREADY_EXISTS,
                "port 48000 on host h1 is already used by the gateway of networks blue, red");
        assertRefused(() -> harness.registry.deleteHost("h1"), Status.Code.FAILED_PRECONDITION, "host h1 still serves");

        try (RegistryHarness tight = new RegistryHarness(RegistryConfig.defaults().withPortRange(47000, 47001), new InMemoryConfigStore())) {
            RegistryClient tightAdmin = tight.admin();
            tightAdmin.createNetwork("blue", 0, "10.0.0.0/24");
            tightAdmin.registerHost("h1", "10.255.0.1");
            tightAdmin.setGateway("blue", "h1", null, 47000);
            assertThat(tightAdmin.createVm("a", "blue", "h1", null).port()).isEqualTo(47001);
        }

        HostAssignments h1Assignments = h1.getHostAssignments();
        assertThat(h1Assignments.vms()).extracting(a -> a.vm().name()).containsExactly("blue1");
        assertThat(h1Assignments.gateways()).extracting(g -> g.gateway().network()).containsExactly("blue", "red");
        assertThat(h1Assignments.gateways().get(0).key()).as("each network has its own gateway key")
                .isNotEqualTo(h1Assignments.gateways().get(1).key());

        // The port stays the gateway's while any network still has it there.
        admin.deleteGateway("blue", "h1");
        assertRefused(() -> harness.registry.createVm("blue3", "blue", "h1", null, null, 48000), Status.Code.ALREADY_EXISTS,
                "port 48000 on host h1 is already used by the gateway of network red");
        admin.deleteGateway("red", "h1");
        assertThat(harness.registry.createVm("blue3", "blue", "h1", null, null, 48000).port()).isEqualTo(48000);
        assertThat(h1.getHostAssignments().gateways()).isEmpty();
    }

    @Test
    void theNetworksGatewayKeyIsKeptWhileItHasGatewaysAndIsNewAfterTheLastIsDeleted() {
        admin.setGateway("blue", "gw", "10.255.0.9", 47000);
        RegistryClient gw = harness.client("gw");
        byte[] key = gw.getHostAssignments().gateways().getFirst().key();
        var before = harness.snapshot();
        admin.setGateway("blue", "gw", "10.255.0.9", 47000);
        assertThat(harness.snapshot()).as("the same gateway again writes nothing").isEqualTo(before);
        admin.setGateway("blue", "gw", "10.255.0.9", 47001);
        assertThat(gw.getHostAssignments().gateways().getFirst().key()).as("changing a gateway keeps the network's key").isEqualTo(key);
        assertThat(admin.listGateways()).containsExactly(new Gateway("blue", "gw", Ipv4Address.parse("10.255.0.9"), 47001));

        admin.deleteGateway("blue", "gw");
        assertThat(admin.listGateways()).isEmpty();
        assertRefused(() -> h1.requestToken("blue1", Ipv4Address.parse("93.184.216.34")).join(), Status.Code.NOT_FOUND, "no gateway");
        admin.setGateway("blue", "gw", "10.255.0.9", 47001);
        assertThat(gw.getHostAssignments().gateways().getFirst().key()).as("a new first gateway gets a new key").isNotEqualTo(key);
    }

    @Test
    void deletingAVmRemovesItsRulesAndItsAddressNoLongerResolves() {
        admin.allowPair("blue1", "red1");
        admin.allowPair("red1", "blue1");
        long revision = harness.store.revision();
        admin.deleteVm("red1");
        assertThat(admin.listAllowRules()).isEmpty();
        assertThat(harness.recordKeys(StoredRecords.RULES)).isEmpty();
        assertThat(harness.store.get(RegistryHarness.key(StoredRecords.VMS + "red1"))).isEmpty();
        assertThat(harness.store.revision()).as("the vm and its rules go in one transaction").isEqualTo(revision + 1);
        assertRefused(() -> h1.requestToken("blue1", red1.address(), "red").join(), Status.Code.NOT_FOUND, "no vm with address 10.0.0.3 in network red");
        Vm again = admin.createVm("red1", "red", "h2", null);
        assertRefused(() -> h1.requestToken("blue1", again.address(), "red").join(), Status.Code.PERMISSION_DENIED, "policy denies");
        assertRefused(() -> admin.deleteVm("red1x"), Status.Code.NOT_FOUND, "vm red1x does not exist");
    }

    @Test
    void malformedTokenRequestsAreInvalidArguments() {
        assertRefused(() -> h1.requestToken("", blue2.address()).join(), Status.Code.INVALID_ARGUMENT, "source vm name is empty");
    }

    @Test
    void manyThreadsIssueTheSameTokens() throws Exception {
        long expected = harness.registry.requestToken("h1", "blue1", blue2.address(), null).token();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Long>> tokens = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                tokens.add(pool.submit(() -> {
                    long token = 0;
                    for (int j = 0; j < 1000; j++) {
                        token = harness.registry.requestToken("h1", "blue1", blue2.address(), null).token();
                    }
                    return token;
                }));
            }
            for (Future<Long> token : tokens) {
                assertThat(token.get()).isEqualTo(expected);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
