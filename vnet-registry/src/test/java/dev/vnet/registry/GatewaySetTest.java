package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpToken;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.vnet.registry.Refusals.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several gateways per network sharing the network's gateway key, and the choice of gateway for a VM's
 * egress. blue 10.0.0.0/24 with 60 VMs on h1 (10.255.0.1); red 10.1.0.0/24 empty. Gateways g1, g2, g3 at
 * 10.255.1.1-3, each on port 47000.
 */
class GatewaySetTest {
    private static final int OUTSIDE = Ipv4Address.parse("93.184.216.34");
    private static final int VM_COUNT = 60;

    private final RegistryHarness harness = new RegistryHarness();
    private final RegistryClient admin = harness.admin();

    @BeforeEach
    void setUp() {
        admin.createNetwork("blue", 0, "10.0.0.0/24");
        admin.createNetwork("red", 0, "10.1.0.0/24");
        admin.registerHost("h1", "10.255.0.1");
        for (int i = 0; i < VM_COUNT; i++) {
            admin.createVm("vm" + i, "blue", "h1", null);
        }
    }

    @AfterEach
    void close() {
        harness.close();
    }

    private Gateway setGateway(String network, String name) {
        return admin.setGateway(network, name, "10.255.1." + name.substring(1), 47000);
    }

    private byte[] gatewayKey(String identity, String network) {
        return harness.client(identity).getHostAssignments().gateways().stream().filter(g -> g.gateway().network().equals(network))
                .findFirst().orElseThrow().key();
    }

    /** The gateway each VM's egress goes to, by VM name. */
    private Map<String, String> egressGateways() {
        Map<Integer, String> gatewaysByAddress = new HashMap<>();
        admin.listGateways().forEach(g -> gatewaysByAddress.put(g.address(), g.name()));
        Map<String, String> chosen = new HashMap<>();
        for (int i = 0; i < VM_COUNT; i++) {
            TokenGrant grant = harness.registry.requestToken("h1", "vm" + i, OUTSIDE, null);
            assertThat(grant.kind()).isEqualTo(TokenGrant.Kind.GATEWAY);
            chosen.put("vm" + i, gatewaysByAddress.get(grant.destinationHost()));
        }
        return chosen;
    }

    @Test
    void theGatewaysOfANetworkShareOneKeyFromTheFirstGatewayToTheLast() {
        setGateway("blue", "g1");
        byte[] key = gatewayKey("g1", "blue");
        setGateway("blue", "g2");
        setGateway("blue", "g3");
        assertThat(gatewayKey("g2", "blue")).isEqualTo(key);
        assertThat(gatewayKey("g3", "blue")).isEqualTo(key);
        assertThat(admin.listGateways()).extracting(Gateway::name).containsExactly("g1", "g2", "g3");

        admin.setGateway("blue", "g1", "10.255.1.11", 47001);
        admin.deleteGateway("blue", "g2");
        assertThat(gatewayKey("g1", "blue")).isEqualTo(key);
        assertThat(gatewayKey("g3", "blue")).isEqualTo(key);
        assertThat(admin.listGateways()).containsExactly(new Gateway("blue", "g1", Ipv4Address.parse("10.255.1.11"), 47001),
                new Gateway("blue", "g3", Ipv4Address.parse("10.255.1.3"), 47000));
        assertRefused(() -> harness.client("g2").getHostAssignments(), Status.Code.NOT_FOUND, "no host or gateway named g2");
        assertRefused(() -> harness.client("g2").requestIngressToken("blue", OUTSIDE, Ipv4Address.parse("10.0.0.2")).join(),
                Status.Code.PERMISSION_DENIED, "g2 is not a gateway of network blue");

        admin.deleteGateway("blue", "g1");
        admin.deleteGateway("blue", "g3");
        assertThat(admin.listGateways()).isEmpty();
        assertThat(harness.recordKeys(StoredRecords.GATEWAYS)).isEmpty();
        assertThat(harness.recordKeys(StoredRecords.GATEWAY_KEYS)).as("the last gateway takes the key with it").isEmpty();
        setGateway("blue", "g1");
        assertThat(gatewayKey("g1", "blue")).isNotEqualTo(key);
    }

    @Test
    void eachChangeOfTheSetIsOneStoreWrite() {
        long revision = harness.store.revision();
        setGateway("blue", "g1");
        assertThat(harness.store.revision()).as("the first gateway and the network's key in one transaction").isEqualTo(revision + 1);
        assertThat(harness.recordKeys(StoredRecords.GATEWAYS)).containsExactly(RegistryHarness.key("gateways/blue/g1"));
        assertThat(harness.recordKeys(StoredRecords.GATEWAY_KEYS)).containsExactly(RegistryHarness.key("gateway-keys/blue"));
        assertThat(harness.store.get(RegistryHarness.key("gateways/blue/g1")).orElseThrow().valueAsString())
                .isEqualTo("{\"network\":\"blue\",\"name\":\"g1\",\"address\":\"10.255.1.1\",\"port\":47000}");
        setGateway("blue", "g2");
        admin.deleteGateway("blue", "g1");
        admin.deleteGateway("blue", "g2");
        assertThat(harness.store.revision()).isEqualTo(revision + 4);
    }

    @Test
    void refusedGatewayChangesChangeNothing() {
        setGateway("blue", "g1");
        var before = harness.snapshot();
        assertRefused(() -> admin.deleteGateway("blue", "g2"), Status.Code.NOT_FOUND, "network blue has no gateway g2");
        assertRefused(() -> admin.deleteGateway("red", "g1"), Status.Code.NOT_FOUND, "network red has no gateway g1");
        assertRefused(() -> admin.deleteGateway("green", "g1"), Status.Code.NOT_FOUND, "network green does not exist");
        assertRefused(() -> admin.deleteGateway("blue", "g/1"), Status.Code.INVALID_ARGUMENT, "gateway name 'g/1' is invalid");
        assertRefused(() -> admin.setGateway("blue", "h1", null, harness.registry.vm("vm0").orElseThrow().port()),
                Status.Code.ALREADY_EXISTS, "already used by vm vm0");
        assertRefused(() -> harness.client("h1").deleteGateway("blue", "g1"), Status.Code.PERMISSION_DENIED,
                "DeleteGateway is for the administrator");
        assertThat(harness.snapshot()).isEqualTo(before);
        assertThat(admin.listGateways()).extracting(Gateway::name).containsExactly("g1");
    }

    @Test
    void oneIdentityServesSeveralNetworksOnOnePortWithEachNetworksKey() {
        setGateway("blue", "g1");
        setGateway("blue", "g2");
        setGateway("red", "g1");
        HostAssignments g1 = harness.client("g1").getHostAssignments();
        assertThat(g1.gateways()).extracting(a -> a.gateway().network()).containsExactly("blue", "red");
        assertThat(g1.gateways()).allSatisfy(a -> assertThat(a.gateway().port()).isEqualTo(47000));
        assertThat(g1.gateways().get(0).key()).isEqualTo(gatewayKey("g2", "blue")).isNotEqualTo(g1.gateways().get(1).key());
        assertThat(g1.gateways().get(1).subnet()).hasToString("10.1.0.0/24");
        assertThat(admin.listGateways()).extracting(g -> g.network() + "/" + g.name()).containsExactly("blue/g1", "blue/g2", "red/g1");
    }

    @Test
    void aNetworkWithGatewaysCannotBeDeleted() {
        setGateway("red", "g1");
        setGateway("red", "g2");
        assertRefused(() -> harness.registry.deleteNetwork("red"), Status.Code.FAILED_PRECONDITION, "network red still has 2 gateways");
        admin.deleteGateway("red", "g1");
        admin.deleteGateway("red", "g2");
        assertThat(harness.registry.deleteNetwork("red").name()).isEqualTo("red");
    }

    @Test
    void aVmsEgressGoesToOneGatewayKeyedWithTheSharedKeyAndTheVmsSpreadOverThem() {
        setGateway("blue", "g1");
        setGateway("blue", "g2");
        setGateway("blue", "g3");
        Map<String, String> chosen = egressGateways();
        assertThat(egressGateways()).as("the same gateway for a VM every time").isEqualTo(chosen);
        Map<String, Long> vmsPerGateway = new HashMap<>();
        chosen.values().forEach(g -> vmsPerGateway.merge(g, 1L, Long::sum));
        assertThat(vmsPerGateway).as("every gateway gets a fair share: " + vmsPerGateway).containsOnlyKeys("g1", "g2", "g3")
                .allSatisfy((gateway, count) -> assertThat(count).isBetween(10L, 30L));

        byte[] key = gatewayKey("g1", "blue");
        Vm vm = harness.registry.vm("vm7").orElseThrow();
        TokenGrant grant = harness.registry.requestToken("h1", "vm7", OUTSIDE, null);
        assertThat(grant.destinationPort()).isEqualTo(47000);
        assertThat(grant.token()).isEqualTo(new VnpToken(key).compute(Ipv4Address.parse("10.255.0.1"), vm.port(), vm.address(), OUTSIDE,
                grant.expiry()));
        assertThat(harness.client("h1").requestToken("vm7", OUTSIDE).join()).as("the same over gRPC").isEqualTo(grant);
    }

    @Test
    void removingAGatewayMovesOnlyItsVmsAndAddingOneTakesVmsOnlyFromOthersToIt() {
        setGateway("blue", "g1");
        setGateway("blue", "g2");
        setGateway("blue", "g3");
        Map<String, String> before = egressGateways();

        admin.deleteGateway("blue", "g2");
        Map<String, String> withoutG2 = egressGateways();
        before.forEach((vm, gateway) -> {
            if (gateway.equals("g2")) {
                assertThat(withoutG2.get(vm)).isIn("g1", "g3");
            } else {
                assertThat(withoutG2.get(vm)).as(vm + " keeps its gateway").isEqualTo(gateway);
            }
        });

        setGateway("blue", "g2");
        assertThat(egressGateways()).as("the same set gives the same choice").isEqualTo(before);
        setGateway("blue", "g4");
        Map<String, String> withG4 = egressGateways();
        List<String> moved = before.keySet().stream().filter(vm -> !withG4.get(vm).equals(before.get(vm))).toList();
        assertThat(moved).isNotEmpty().allSatisfy(vm -> assertThat(withG4.get(vm)).isEqualTo("g4"));
    }

    @Test
    void theChoiceIsTheHighestWeightWhateverTheOrderOfTheGateways() {
        byte[] key = new byte[VnpToken.KEY_LENGTH];
        Gateway a = new Gateway("blue", "a", 1, 1);
        Gateway b = new Gateway("blue", "b", 2, 2);
        Gateway c = new Gateway("blue", "c", 3, 3);
        NetworkGateways abc = new NetworkGateways(key, List.of(c, a, b));
        assertThat(abc.byName()).containsExactly(a, b, c);
        for (int i = 0; i < 100; i++) {
            String vm = "vm" + i;
            Gateway chosen = abc.chosenFor(vm);
            assertThat(new NetworkGateways(key, List.of(b, c, a)).chosenFor(vm)).isEqualTo(chosen);
            for (Gateway other : abc.byName()) {
                assertThat(Long.compareUnsigned(NetworkGateways.weight(vm, chosen.name()), NetworkGateways.weight(vm, other.name())))
                        .isGreaterThanOrEqualTo(0);
            }
        }
        assertThat(NetworkGateways.weight("ab", "c")).as("the separator keeps the names apart").isNotEqualTo(NetworkGateways.weight("a", "bc"));
        Gateway twin = new Gateway("blue", "a", 9, 9);
        assertThat(new NetworkGateways(key, List.of(a)).with(twin).byName()).containsExactly(twin);
        assertThat(new NetworkGateways(key, List.of(a)).without("a")).isNull();
    }
}
