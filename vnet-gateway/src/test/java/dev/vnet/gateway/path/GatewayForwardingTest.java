package dev.vnet.gateway.path;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.gateway.config.ForwardingMode;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.gateway.hashing.MappingSpec;
import dev.vnet.gateway.path.GatewayFixture.Sent;
import dev.vnet.gateway.path.GatewayFixture.Vm;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.TcpSegment;
import dev.vnet.wire.VnpHeader;
import dev.vnet.wire.VnpToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static dev.vnet.gateway.path.GatewayFixture.CLIENT;
import static dev.vnet.gateway.path.GatewayFixture.GATEWAY_HOST;
import static dev.vnet.gateway.path.GatewayFixture.GATEWAY_PORT;
import static dev.vnet.gateway.path.GatewayFixture.NETWORK_KEY;
import static dev.vnet.gateway.path.GatewayFixture.PUBLIC_ADDRESS;
import static dev.vnet.gateway.path.GatewayFixture.VIP;
import static dev.vnet.gateway.path.GatewayFixture.VMS;
import static dev.vnet.wire.Ipv4Packet.PROTOCOL_TCP;
import static dev.vnet.wire.Ipv4Packet.PROTOCOL_UDP;
import static org.assertj.core.api.Assertions.assertThat;

class GatewayForwardingTest {
    static Stream<Arguments> modesAndTables() {
        return Stream.of(ForwardingMode.values()).flatMap(mode -> Stream.of(
                Arguments.of(mode, MappingSpec.DEFAULT), Arguments.of(mode, MappingSpec.seed(100))));
    }

    private static VipService web(ForwardingMode mode, MappingSpec table) {
        return GatewayFixture.vip(mode, table, FlowIdentity.FIVE_TUPLE, 1, "", false, GatewayFixture.backends());
    }

    private static Vm vmAt(Sent sent) {
        return VMS.stream().filter(vm -> vm.host() == sent.toHost() && vm.port() == sent.toPort()).findFirst().orElseThrow();
    }

    @ParameterizedTest
    @MethodSource("modesAndTables")
    void aNewFlowReachesOneBackendWithItsTokenAndAReturnToken(ForwardingMode mode, MappingSpec table) {
        GatewayFixture gateway = new GatewayFixture();
        gateway.serve(web(mode, table));
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 40000, VIP, 80, 10));

        assertThat(gateway.underlay).hasSize(1);
        Sent sent = gateway.underlay.getFirst();
        Vm vm = vmAt(sent);
        VnpHeader vnp = new VnpHeader();
        ByteBuffer b = sent.buffer();
        assertThat(vnp.wrap(b, 0, b.capacity())).isTrue();
        int inner = vnp.innerOffset();
        int innerDestination = b.getInt(inner + 16);
        assertThat(innerDestination).isEqualTo(mode == ForwardingMode.DNAT ? vm.address() : VIP);
        assertThat(b.getInt(inner + 12)).isEqualTo(CLIENT);
        assertThat(GatewayFixture.checksumsValid(b, inner)).isTrue();
        // The VM's port verifies over its own address, whatever the inner destination.
        assertThat(vnp.token()).isEqualTo(new VnpToken(vm.key()).compute(GATEWAY_HOST, GATEWAY_PORT, CLIENT, vm.address(), vnp.expiry()));
        assertThat(vnp.hasReturnToken()).isTrue();
        // In both modes over the VM's own address: one token serves all the addresses a VM sends from.
        assertThat(vnp.returnToken()).isEqualTo(new VnpToken(NETWORK_KEY).compute(vm.host(), vm.port(), vm.address(), CLIENT, vnp.returnExpiry()));
        assertThat(gateway.counters.newFlows.sum()).isEqualTo(1);

        // The flow's next packet: same backend, no return token, no second registry request.
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 40000, VIP, 80, 10));
        assertThat(vmAt(gateway.underlay.get(1))).isEqualTo(vm);
        assertThat(vnp.wrap(gateway.underlay.get(1).buffer(), 0, gateway.underlay.get(1).bytes().length)).isTrue();
        assertThat(vnp.hasReturnToken()).isFalse();
        assertThat(gateway.tokenRequests).hasValue(1);
    }

    @ParameterizedTest
    @MethodSource("modesAndTables")
    void anyGatewayTranslatesAReplyBackWithoutState(ForwardingMode mode, MappingSpec table) {
        GatewayFixture other = new GatewayFixture(); // saw none of the flow
        other.serve(web(mode, table));
        other.knowWhereVmsAre(); // from its health probes
        Vm vm = VMS.get(1);
        int replySource = mode == ForwardingMode.DNAT ? vm.address() : VIP;
        long expiry = other.now() + 600;
        long token = new VnpToken(NETWORK_KEY).compute(vm.host(), vm.port(), vm.address(), CLIENT, expiry);
        other.fromVm(vm, GatewayFixture.packet(PROTOCOL_TCP, replySource, 80, CLIENT, 40000, 100), token, expiry, null);

        assertThat(other.published).hasSize(1);
        ByteBuffer reply = other.published.getFirst().buffer();
        assertThat(reply.getInt(12)).as("source").isEqualTo(VIP);
        assertThat(reply.getShort(20) & 0xFFFF).isEqualTo(80);
        assertThat(reply.getInt(16)).isEqualTo(CLIENT);
        assertThat(GatewayFixture.checksumsValid(reply, 0)).isTrue();
        assertThat(mode == ForwardingMode.DNAT ? other.counters.dnatReplies.sum() : other.counters.unchangedReplies.sum()).isEqualTo(1);
    }

    @Test
    void anUnchangedBackendAnswersFromTheVipAndReachesOutFromItsOwnAddressWithTheSameToken() {
        GatewayFixture gateway = new GatewayFixture();
        gateway.serve(web(ForwardingMode.UNCHANGED, MappingSpec.DEFAULT));
        gateway.knowWhereVmsAre();
        Vm vm = VMS.get(0);
        long expiry = gateway.now() + 600;
        long token = gateway.gatewayToken(vm, vm.address(), CLIENT, expiry); // one pair (VM, client) on its host

        gateway.fromVm(vm, GatewayFixture.packet(PROTOCOL_TCP, VIP, 80, CLIENT, 40000, 10), token, expiry, null);
        gateway.fromVm(vm, GatewayFixture.packet(PROTOCOL_TCP, vm.address(), 33000, CLIENT, 7000, 10), token, expiry, null);

        assertThat(gateway.published).hasSize(2);
        assertThat(gateway.published.get(0).buffer().getInt(12)).as("the reply keeps the VIP").isEqualTo(VIP);
        assertThat(gateway.published.get(1).buffer().getInt(12)).as("egress is translated").isEqualTo(PUBLIC_ADDRESS);
        assertThat(gateway.counters.unchangedReplies.sum()).isEqualTo(1);
        assertThat(gateway.counters.snatOutbound.sum()).isEqualTo(1);
    }

    @Test
    void onlyAKnownBackendOfAnUnchangedVipMaySendFromItAndOnlyWithItsOwnToken() {
        GatewayFixture gateway = new GatewayFixture();
        gateway.serve(GatewayFixture.vip(ForwardingMode.UNCHANGED, MappingSpec.DEFAULT, FlowIdentity.FIVE_TUPLE, 1, "", false,
                List.of(VMS.get(0).backend(""), VMS.get(1).backend(""))));
        long expiry = gateway.now() + 600;
        Vm vm = VMS.get(0);
        PacketBuffer fromVip = GatewayFixture.packet(PROTOCOL_TCP, VIP, 80, CLIENT, 40000, 10);

        gateway.fromVm(vm, fromVip, gateway.gatewayToken(vm, vm.address(), CLIENT, expiry), expiry, null);
        assertThat(gateway.counters.drops(GatewayDrop.NOT_A_BACKEND)).as("no grant told where it is yet").isEqualTo(1);

        gateway.knowWhereVmsAre();
        Vm outsider = VMS.get(2); // a VM of the network, but no backend of this VIP
        gateway.fromVm(outsider, GatewayFixture.packet(PROTOCOL_TCP, VIP, 80, CLIENT, 40000, 10),
                gateway.gatewayToken(outsider, outsider.address(), CLIENT, expiry), expiry, null);
        assertThat(gateway.counters.drops(GatewayDrop.NOT_A_BACKEND)).isEqualTo(2);

        gateway.fromVm(vm, GatewayFixture.packet(PROTOCOL_TCP, VIP, 80, CLIENT, 40000, 10),
                gateway.gatewayToken(vm, VIP, CLIENT, expiry), expiry, null);
        assertThat(gateway.counters.drops(GatewayDrop.BAD_TOKEN)).as("a token over the VIP names no VM").isEqualTo(1);
        gateway.fromVm(VMS.get(1), GatewayFixture.packet(PROTOCOL_TCP, VIP, 80, CLIENT, 40000, 10),
                gateway.gatewayToken(vm, vm.address(), CLIENT, expiry), expiry, null);
        assertThat(gateway.counters.drops(GatewayDrop.BAD_TOKEN)).as("another backend's token").isEqualTo(2);
        assertThat(gateway.published).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("modesAndTables")
    void flowsSpreadOverEveryHealthyBackendAndTwoGatewaysAgreeOnEach(ForwardingMode mode, MappingSpec table) {
        GatewayFixture first = new GatewayFixture();
        GatewayFixture second = new GatewayFixture();
        first.serve(web(mode, table));
        second.serve(web(mode, table));
        Map<Vm, Integer> perVm = new HashMap<>();
        for (int flow = 0; flow < 600; flow++) {
            first.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT + flow % 7, 20000 + flow, VIP, 80, 0));
            second.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT + flow % 7, 20000 + flow, VIP, 80, 0));
            Vm chosen = vmAt(first.underlay.get(flow));
            assertThat(vmAt(second.underlay.get(flow))).isEqualTo(chosen);
            perVm.merge(chosen, 1, Integer::sum);
        }
        assertThat(perVm.keySet()).containsExactlyInAnyOrderElementsOf(VMS);
        assertThat(perVm.values()).allSatisfy(count -> assertThat(count).isGreaterThan(100));
    }

    @ParameterizedTest
    @MethodSource("modesAndTables")
    void anUnhealthyBackendGetsNoNewFlowsAndPinnedFlowsElsewhereStay(ForwardingMode mode, MappingSpec table) {
        GatewayFixture gateway = new GatewayFixture();
        VipService web = web(mode, table);
        gateway.serve(web);
        int flows = 300;
        Vm[] before = new Vm[flows];
        for (int flow = 0; flow < flows; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
            before[flow] = vmAt(gateway.underlay.getLast());
        }
        Vm sick = VMS.get(0);
        web.setHealthy(0, false); // backends are sorted by name: index 0 is vm1
        for (int flow = 0; flow < flows; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
            Vm now = vmAt(gateway.underlay.getLast());
            assertThat(now).isNotEqualTo(sick);
            if (before[flow] != sick) {
                assertThat(now).as("flow %d was pinned to a healthy backend", flow).isEqualTo(before[flow]);
            }
        }
        for (int flow = 0; flow < 200; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 50000 + flow, VIP, 80, 0));
            assertThat(vmAt(gateway.underlay.getLast())).isNotEqualTo(sick);
        }
        // Back to health: pinned flows stay where they are now (no flapping back), new flows may use it again.
        web.setHealthy(0, true);
        Vm pinned = vmAt(gateway.underlay.get(flows + 0));
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000, VIP, 80, 0));
        assertThat(vmAt(gateway.underlay.getLast())).isEqualTo(pinned);
        for (VipService service : gateway.context.tables().services()) {
            service.setHealthy(0, false);
            service.setHealthy(1, false);
            service.setHealthy(2, false);
        }
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 60000, VIP, 80, 0));
        assertThat(gateway.counters.drops(GatewayDrop.NO_HEALTHY_BACKEND)).isEqualTo(1);
    }

    @ParameterizedTest
    @MethodSource("modesAndTables")
    void aSynThatReusesAPinnedFiveTupleIsMappedAfreshLikeAnyOtherGatewayWouldMapIt(ForwardingMode mode, MappingSpec table) {
        GatewayFixture gateway = new GatewayFixture();
        VipService web = web(mode, table);
        gateway.serve(web);
        GatewayFixture fresh = new GatewayFixture();
        fresh.serve(web(mode, table));
        // Pin flows while vm1 is down, so those the full set maps to vm1 are pinned elsewhere; then vm1 is back.
        web.setHealthy(0, false);
        int flows = 200;
        for (int flow = 0; flow < flows; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
        }
        web.setHealthy(0, true);
        int remapped = 0;
        for (int flow = 0; flow < flows; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
            Vm pinned = vmAt(gateway.underlay.getLast());
            gateway.fromPublic(GatewayFixture.synPacket(CLIENT, 30000 + flow, VIP, 80));
            Vm reopened = vmAt(gateway.underlay.getLast());
            fresh.fromPublic(GatewayFixture.synPacket(CLIENT, 30000 + flow, VIP, 80));
            assertThat(reopened).as("flow %d's new connection", flow).isEqualTo(vmAt(fresh.underlay.getLast()));
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
            assertThat(vmAt(gateway.underlay.getLast())).as("and it stays pinned there").isEqualTo(reopened);
            remapped += pinned != reopened ? 1 : 0;
        }
        assertThat(remapped).as("some connections were pinned away from vm1 and went back to it").isPositive();
    }

    @Test
    void aFlowWhoseClientClosedKeepsItsPinOnlyBriefly() {
        GatewayFixture gateway = new GatewayFixture();
        VipService web = web(ForwardingMode.DNAT, MappingSpec.DEFAULT);
        gateway.serve(web);
        // Flows pinned while vm1 is down go elsewhere; with vm1 back, a pin still holds them there.
        web.setHealthy(0, false);
        int flows = 120;
        for (int flow = 0; flow < flows; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
        }
        web.setHealthy(0, true);
        GatewayFixture fresh = new GatewayFixture();
        fresh.serve(web(ForwardingMode.DNAT, MappingSpec.DEFAULT));
        int closedAndRemapped = 0;
        for (int flow = 0; flow < flows; flow++) {
            PacketBuffer fin = GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0);
            fin.buffer().put(PublicForwarder.HEADROOM + 20 + 13, (byte) (TcpSegment.FIN | TcpSegment.ACK));
            gateway.fromPublic(fin);
        }
        gateway.nowMillis[0] += (FlowTable.CLOSING_SECONDS + 1) * 1000L;
        for (int flow = 0; flow < flows; flow++) {
            // A later connection of the same 5-tuple whose SYN went to another gateway that failed.
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
            fresh.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 30000 + flow, VIP, 80, 0));
            assertThat(vmAt(gateway.underlay.getLast())).as("flow %d maps as any gateway maps it", flow)
                    .isEqualTo(vmAt(fresh.underlay.getLast()));
            closedAndRemapped += vmAt(gateway.underlay.getLast()) == VMS.get(0) ? 1 : 0;
        }
        assertThat(closedAndRemapped).as("the stale pins away from vm1 are gone").isPositive();
    }

    @Test
    void flowIdentityDecidesWhatStaysTogether() {
        for (FlowIdentity identity : FlowIdentity.values()) {
            GatewayFixture gateway = new GatewayFixture();
            gateway.serve(GatewayFixture.vip(ForwardingMode.DNAT, MappingSpec.DEFAULT, identity, 1, "", false, GatewayFixture.backends()));
            for (int flow = 0; flow < 60; flow++) {
                gateway.fromPublic(GatewayFixture.packet(flow % 2 == 0 ? PROTOCOL_TCP : PROTOCOL_UDP, CLIENT, 10000 + flow, VIP,
                        flow % 2 == 0 ? 80 : 53, 0));
            }
            long distinctBackends = gateway.underlay.stream().map(GatewayForwardingTest::vmAt).distinct().count();
            long distinctPerProtocol = Stream.of(0, 1).mapToLong(parity -> java.util.stream.IntStream.range(0, 60)
                    .filter(i -> i % 2 == parity).mapToObj(i -> vmAt(gateway.underlay.get(i))).distinct().count()).max().orElseThrow();
            switch (identity) {
                case FIVE_TUPLE -> assertThat(distinctBackends).isEqualTo(3);
                case THREE_TUPLE -> assertThat(distinctPerProtocol).as("one backend per protocol").isEqualTo(1);
                case TWO_TUPLE -> assertThat(distinctBackends).as("one backend for the client").isEqualTo(1);
            }
        }
    }

    @Test
    void localityPrefersBackendsInTheGatewaysLocationAndFallsBackToAll() {
        GatewayFixture gateway = new GatewayFixture();
        List<Backend> backends = List.of(VMS.get(0).backend("zone-a"), VMS.get(1).backend("zone-b"), VMS.get(2).backend("zone-b"));
        VipService web = GatewayFixture.vip(ForwardingMode.DNAT, MappingSpec.DEFAULT, FlowIdentity.FIVE_TUPLE, 1, "zone-a", true, backends);
        gateway.serve(web);
        for (int flow = 0; flow < 100; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 10000 + flow, VIP, 80, 0));
            assertThat(vmAt(gateway.underlay.getLast())).isEqualTo(VMS.get(0));
        }
        web.setHealthy(0, false);
        for (int flow = 0; flow < 100; flow++) {
            gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 20000 + flow, VIP, 80, 0));
        }
        assertThat(gateway.underlay.subList(100, 200).stream().map(GatewayForwardingTest::vmAt).distinct())
                .containsExactlyInAnyOrder(VMS.get(1), VMS.get(2));
    }

    @Test
    void egressIsTranslatedToThePublicAddressAndRepliesReturnWithTheLearnedToken() {
        for (int protocol : new int[]{PROTOCOL_TCP, PROTOCOL_UDP}) {
            GatewayFixture gateway = new GatewayFixture();
            gateway.serve(web(ForwardingMode.DNAT, MappingSpec.DEFAULT));
            Vm vm = VMS.get(2);
            int remote = dev.vnet.wire.Ipv4Address.parse("203.0.113.5");
            long expiry = gateway.now() + 600;
            long token = gateway.gatewayToken(vm, vm.address(), remote, expiry);
            long returnToken = new VnpToken(vm.key()).compute(GATEWAY_HOST, GATEWAY_PORT, remote, vm.address(), expiry);
            gateway.fromVm(vm, GatewayFixture.packet(protocol, vm.address(), 33333, remote, 53, 20), token, expiry, returnToken);

            assertThat(gateway.published).hasSize(1);
            ByteBuffer out = gateway.published.getFirst().buffer();
            assertThat(out.getInt(12)).isEqualTo(PUBLIC_ADDRESS);
            int publicPort = out.getShort(20) & 0xFFFF;
            assertThat(publicPort).isGreaterThanOrEqualTo(SnatTable.FIRST_PORT);
            assertThat(GatewayFixture.checksumsValid(out, 0)).isTrue();

            gateway.fromPublic(GatewayFixture.packet(protocol, remote, 53, PUBLIC_ADDRESS, publicPort, 30));
            assertThat(gateway.underlay).hasSize(1);
            Sent back = gateway.underlay.getFirst();
            assertThat(back.toHost()).isEqualTo(vm.host());
            assertThat(back.toPort()).isEqualTo(vm.port());
            VnpHeader vnp = new VnpHeader();
            assertThat(vnp.wrap(back.buffer(), 0, back.bytes().length)).isTrue();
            assertThat(vnp.token()).as("the VM's own return token").isEqualTo(returnToken);
            assertThat(back.buffer().getInt(vnp.innerOffset() + 16)).isEqualTo(vm.address());
            assertThat(back.buffer().getShort(vnp.innerOffset() + 22) & 0xFFFF).isEqualTo(33333);
            assertThat(GatewayFixture.checksumsValid(back.buffer(), vnp.innerOffset())).isTrue();
            assertThat(gateway.tokenRequests).as("no registry request for the reply").hasValue(0);

            // A reply from another remote endpoint to the same public port has no translation.
            gateway.fromPublic(GatewayFixture.packet(protocol, remote + 1, 53, PUBLIC_ADDRESS, publicPort, 30));
            assertThat(gateway.counters.drops(GatewayDrop.NO_TRANSLATION)).isEqualTo(1);
        }
    }

    @Test
    void hostileAndUnexpectedPacketsAreDroppedAndCountedByReason() {
        GatewayFixture gateway = new GatewayFixture();
        gateway.serve(web(ForwardingMode.DNAT, MappingSpec.DEFAULT));
        Vm vm = VMS.getFirst();
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 1, VIP, 81, 0));
        assertThat(gateway.counters.drops(GatewayDrop.NO_LISTENER)).isEqualTo(1);
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 1, VIP + 1, 80, 0));
        assertThat(gateway.counters.drops(GatewayDrop.UNKNOWN_DESTINATION)).isEqualTo(1);
        PacketBuffer truncated = GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 1, VIP, 80, 0);
        gateway.publicSide.fromPublic(truncated, PublicForwarder.HEADROOM, 19);
        assertThat(gateway.counters.drops(GatewayDrop.MALFORMED_PUBLIC)).isEqualTo(1);

        long expiry = gateway.now() + 600;
        int remote = dev.vnet.wire.Ipv4Address.parse("203.0.113.5");
        gateway.fromVm(vm, GatewayFixture.packet(PROTOCOL_UDP, vm.address(), 1, remote, 53, 0), 12345L, expiry, null);
        assertThat(gateway.counters.drops(GatewayDrop.BAD_TOKEN)).isEqualTo(1);
        long old = gateway.now() - 100;
        gateway.fromVm(vm, GatewayFixture.packet(PROTOCOL_UDP, vm.address(), 1, remote, 53, 0),
                gateway.gatewayToken(vm, vm.address(), remote, old), old, null);
        assertThat(gateway.counters.drops(GatewayDrop.TOKEN_EXPIRED)).isEqualTo(1);
        long far = gateway.now() + 100_000;
        gateway.fromVm(vm, GatewayFixture.packet(PROTOCOL_UDP, vm.address(), 1, remote, 53, 0),
                gateway.gatewayToken(vm, vm.address(), remote, far), far, null);
        assertThat(gateway.counters.drops(GatewayDrop.EXPIRY_TOO_FAR)).isEqualTo(1);
        // Hairpin to a VIP through the gateway is refused, with a valid token.
        gateway.fromVm(vm, GatewayFixture.packet(PROTOCOL_TCP, vm.address(), 1, VIP, 80, 0),
                gateway.gatewayToken(vm, vm.address(), VIP, expiry), expiry, null);
        assertThat(gateway.counters.drops(GatewayDrop.NOT_OUTSIDE)).isEqualTo(1);

        Random random = new Random(42);
        for (int i = 0; i < 5000; i++) {
            PacketBuffer junk = PacketBuffer.allocate(2048);
            int length = random.nextInt(200);
            for (int j = 0; j < length + 32; j++) {
                junk.buffer().put(j, (byte) random.nextInt());
            }
            if (random.nextInt(4) == 0) { // mostly well-formed IPv4 headers with junk after them
                Ipv4Packet.writeHeader(junk.buffer(), 16, Math.max(20, length), 1, 64, random.nextInt(3) * 5 + 1, random.nextInt(), VIP);
            }
            gateway.publicSide.fromPublic(junk, 16, Math.max(0, length));
            gateway.underlaySide.fromUnderlay(junk, 0, length, vm.host(), vm.port());
        }
        long dropped = Stream.of(GatewayDrop.values()).mapToLong(gateway.counters::drops).sum();
        assertThat(dropped).isGreaterThan(9000);
        assertThat(gateway.published).isEmpty();
    }

    @Test
    void aRefusedTokenDropsTheWaitingPacketsAndPausesRequests() {
        GatewayFixture gateway = new GatewayFixture();
        gateway.serve(web(ForwardingMode.DNAT, MappingSpec.DEFAULT));
        gateway.refuse = true;
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 1, VIP, 80, 0));
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 1, VIP, 80, 0));
        assertThat(gateway.tokenRequests).hasValue(1);
        assertThat(gateway.counters.drops(GatewayDrop.TOKEN_REFUSED)).isEqualTo(2);
        gateway.refuse = false;
        gateway.nowMillis[0] += 6000;
        gateway.fromPublic(GatewayFixture.packet(PROTOCOL_TCP, CLIENT, 1, VIP, 80, 0));
        assertThat(gateway.underlay).hasSize(1);
    }
}
