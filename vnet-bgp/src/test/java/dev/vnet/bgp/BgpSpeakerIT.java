package dev.vnet.bgp;

import dev.vnet.bgp.session.SessionState;
import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.Capability;
import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.TunnelType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.vnet.bgp.TestSpeakers.AS;
import static dev.vnet.bgp.TestSpeakers.address;
import static dev.vnet.bgp.TestSpeakers.await;
import static dev.vnet.bgp.TestSpeakers.config;
import static dev.vnet.bgp.TestSpeakers.established;
import static dev.vnet.bgp.TestSpeakers.peer;
import static dev.vnet.bgp.TestSpeakers.route;
import static dev.vnet.bgp.TestSpeakers.routerId;
import static org.assertj.core.api.Assertions.assertThat;

/** Speakers peering over loopback TCP. */
class BgpSpeakerIT {
    private final List<BgpSpeaker> speakers = new ArrayList<>();

    private BgpSpeaker start(SpeakerConfig config) throws Exception {
        BgpSpeaker speaker = BgpSpeaker.start(config);
        speakers.add(speaker);
        return speaker;
    }

    @AfterEach
    void closeAll() {
        speakers.forEach(BgpSpeaker::close);
    }

    @Test
    void ibgpRoutesArriveWithTheirRdRouteTargetLabelNextHopAndEncapsulation() throws Exception {
        InetSocketAddress a = address(2);
        InetSocketAddress b = address(3);
        BgpSpeaker speakerA = start(config(AS, 2, a).peer(PeerConfig.of(b, AS)).build());
        BgpSpeaker speakerB = start(config(AS, 3, b).peer(PeerConfig.of(a, AS)).build());
        List<VpnRoute> seenByB = new CopyOnWriteArrayList<>();
        speakerB.addListener((previous, current) -> seenByB.add(current));
        await("session A-B", () -> established(speakerA) && established(speakerB));

        VpnRoute route = route(11, 1001, "10.1.0.0/24");
        speakerA.originate(route);
        await("route at B", () -> speakerB.locRibSize() == 1);

        VpnRoute learned = speakerB.bestPath(route.rd(), route.prefix()).orElseThrow();
        assertThat(learned.withoutAttributes()).isEqualTo(route);
        assertThat(learned.tunnelTypes()).containsExactly(TunnelType.VNP);
        assertThat(learned.attributes().localPref()).isEqualTo(100);
        assertThat(learned.attributes().asPath()).isEqualTo(AsPath.EMPTY);
        assertThat(seenByB).hasSize(1);

        speakerA.withdraw(route.rd(), route.prefix());
        await("withdrawal at B", () -> speakerB.locRibSize() == 0);
        assertThat(seenByB).hasSize(2).last().isNull();
        assertThat(peer(speakerB, a).endOfRibReceived()).isTrue();
    }

    @Test
    void ebgpRoutesCarryTheSendersAsAndNoLocalPref() throws Exception {
        InetSocketAddress a = address(4);
        InetSocketAddress b = address(5);
        BgpSpeaker speakerA = start(config(65001, 4, a).peer(PeerConfig.of(b, 65002)).build());
        BgpSpeaker speakerB = start(config(65002, 5, b).peer(PeerConfig.of(a, 65001)).build());
        await("session A-B", () -> established(speakerA) && established(speakerB));

        VpnRoute route = route(12, 7, "10.7.0.0/16");
        speakerA.originate(route);
        await("route at B", () -> speakerB.locRibSize() == 1);

        VpnRoute learned = speakerB.bestPaths().getFirst();
        assertThat(learned.withoutAttributes()).isEqualTo(route);
        assertThat(learned.attributes().asPath()).isEqualTo(AsPath.sequence(65001));
        assertThat(learned.attributes().localPref()).isEqualTo(-1);
    }

    @Test
    void speakersOfDifferentExtensionVersionsStillPeerAndLeaveOutWhatTheyDoNotShare() throws Exception {
        InetSocketAddress a = address(6);
        InetSocketAddress b = address(7);
        InetSocketAddress c = address(8);
        BgpSpeaker older = start(config(AS, 6, a).extensionVersion(1).routeRefresh(false)
                .peer(PeerConfig.of(b, AS)).peer(PeerConfig.of(c, AS)).build());
        BgpSpeaker newer = start(config(AS, 7, b).extensionVersion(3)
                .peer(PeerConfig.of(a, AS).withExtraCapabilities(List.of(new Capability.Unknown(250, new byte[] {9, 9, 9}))))
                .build());
        BgpSpeaker plain = start(config(AS, 8, c).extensionVersion(0).peer(PeerConfig.of(a, AS)).build());
        await("sessions", () -> established(older) && established(newer) && established(plain));

        PeerStatus olderSeesNewer = peer(older, b);
        PeerStatus newerSeesOlder = peer(newer, a);
        assertThat(olderSeesNewer.extensionVersion()).isEqualTo(1);
        assertThat(newerSeesOlder.extensionVersion()).isEqualTo(1);
        assertThat(newerSeesOlder.shared()).contains("vnet extension v1", "4-octet AS", "multiprotocol VPN-IPv4")
                .doesNotContain("route refresh");
        assertThat(peer(older, c).extensionVersion()).isZero();
        assertThat(peer(plain, a).shared()).doesNotContain("vnet extension v1");

        newer.originate(route(21, 5, "10.5.0.0/24"));
        await("route from newer at older", () -> older.locRibSize() == 1);
    }

    @Test
    void aRouteReflectorPassesRoutesBetweenItsClients() throws Exception {
        InetSocketAddress a = address(9);
        InetSocketAddress rr = address(10);
        InetSocketAddress b = address(11);
        BgpSpeaker speakerA = start(config(AS, 9, a).peer(PeerConfig.of(rr, AS)).build());
        BgpSpeaker reflector = start(config(AS, 10, rr).peer(PeerConfig.of(a, AS).asReflectorClient())
                .peer(PeerConfig.of(b, AS).asReflectorClient()).build());
        BgpSpeaker speakerB = start(config(AS, 11, b).peer(PeerConfig.of(rr, AS)).build());
        await("sessions", () -> established(speakerA) && established(reflector) && established(speakerB));

        VpnRoute fromA = route(31, 9, "10.9.0.0/24");
        speakerA.originate(fromA);
        await("A's route at B", () -> speakerB.locRibSize() == 1);

        VpnRoute learned = speakerB.bestPaths().getFirst();
        assertThat(learned.withoutAttributes()).isEqualTo(fromA);
        assertThat(learned.attributes().originatorId()).isEqualTo(Integer.toUnsignedLong(routerId(9)));
        assertThat(learned.attributes().clusterList()).containsExactly(routerId(10));
        // A gets nothing back: the reflector does not send a route to where it came from
        assertThat(speakerA.locRibSize()).isEqualTo(1);
        assertThat(peer(speakerA, rr).routesReceived()).isZero();

        speakerA.withdraw(fromA.rd(), fromA.prefix());
        await("withdrawal at B", () -> speakerB.locRibSize() == 0);
    }

    @Test
    void withoutReflectionInternalRoutesAreNotPassedOn() throws Exception {
        InetSocketAddress a = address(12);
        InetSocketAddress middle = address(13);
        InetSocketAddress b = address(14);
        BgpSpeaker speakerA = start(config(AS, 12, a).peer(PeerConfig.of(middle, AS)).build());
        BgpSpeaker mid = start(config(AS, 13, middle).peer(PeerConfig.of(a, AS)).peer(PeerConfig.of(b, AS)).build());
        BgpSpeaker speakerB = start(config(AS, 14, b).peer(PeerConfig.of(middle, AS)).build());
        await("sessions", () -> established(speakerA) && established(mid) && established(speakerB));

        speakerA.originate(route(41, 3, "10.3.0.0/24"));
        mid.originate(route(42, 3, "10.3.1.0/24"));
        await("A's route at the middle", () -> mid.locRibSize() == 2);
        await("the middle's own route at B", () -> speakerB.locRibSize() == 1);
        // full mesh rules: B only has the middle's own route, never A's (A and B are not peers)
        assertThat(speakerB.bestPaths()).extracting(VpnRoute::prefix).containsExactly(Ipv4Prefix.parse("10.3.1.0/24"));
    }

    @Test
    void theSessionComesBackAfterThePeerRestarts() throws Exception {
        InetSocketAddress a = address(15);
        InetSocketAddress b = address(16);
        BgpSpeaker speakerA = start(config(AS, 15, a).peer(PeerConfig.of(b, AS)).build());
        SpeakerConfig configB = config(AS, 16, b).peer(PeerConfig.of(a, AS)).build();
        BgpSpeaker speakerB = start(configB);
        speakerA.originate(route(51, 1, "10.51.0.0/24"));
        await("route at B", () -> speakerB.locRibSize() == 1);

        speakerB.close();
        await("A notices", () -> peer(speakerA, b).state() != SessionState.ESTABLISHED);
        assertThat(peer(speakerA, b).lastError()).contains("Cease");

        BgpSpeaker restarted = start(configB);
        await("session back", () -> established(speakerA) && established(restarted));
        await("route at the restarted B", () -> restarted.locRibSize() == 1);
        assertThat(peer(speakerA, b).establishedTransitions()).isEqualTo(2);
    }

    @Test
    void theBestOfTwoPathsWinsAndTheOtherTakesOverWhenItGoes() throws Exception {
        InetSocketAddress a = address(17);
        InetSocketAddress b = address(18);
        InetSocketAddress c = address(19);
        BgpSpeaker speakerA = start(config(AS, 17, a).peer(PeerConfig.of(c, AS)).build());
        BgpSpeaker speakerB = start(config(AS, 18, b).peer(PeerConfig.of(c, AS)).build());
        BgpSpeaker speakerC = start(config(AS, 19, c).peer(PeerConfig.of(a, AS)).peer(PeerConfig.of(b, AS)).build());
        await("sessions", () -> established(speakerA) && established(speakerB) && established(speakerC));

        VpnRoute viaA = route(61, 4, "10.4.0.0/24");
        VpnRoute viaB = new VpnRoute(viaA.rd(), viaA.prefix(), 4, routerId(99), viaA.communities(),
                PathAttributes.builder().med(0).build());
        speakerA.originate(viaA);
        speakerB.originate(viaB);
        await("both paths at C", () -> peer(speakerC, a).routesReceived() == 1 && peer(speakerC, b).routesReceived() == 1);

        // equal in everything down to the BGP identifier: A's (10.255.0.17) is lower
        assertThat(speakerC.bestPaths()).singleElement().extracting(VpnRoute::nextHop).isEqualTo(viaA.nextHop());
        speakerA.withdraw(viaA.rd(), viaA.prefix());
        await("B's path takes over", () -> speakerC.bestPaths().stream().anyMatch(r -> r.nextHop() == routerId(99)));
    }
}
