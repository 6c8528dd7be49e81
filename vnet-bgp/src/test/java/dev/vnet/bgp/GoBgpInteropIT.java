package dev.vnet.bgp;

import dev.vnet.bgp.interop.GoBgpd;
import dev.vnet.bgp.session.SessionState;
import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.RouteDistinguisher;
import dev.vnet.bgp.wire.TunnelType;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static dev.vnet.bgp.TestSpeakers.AS;
import static dev.vnet.bgp.TestSpeakers.address;
import static dev.vnet.bgp.TestSpeakers.await;
import static dev.vnet.bgp.TestSpeakers.config;
import static dev.vnet.bgp.TestSpeakers.peer;
import static dev.vnet.bgp.TestSpeakers.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The speaker against GoBGP (the Debian package's gobgpd, run by the {@link GoBgpd} fixture): an iBGP
 * session over loopback carrying VPN-IPv4 both ways. GoBGP has no vnet extension capability, so this is
 * also the "peer without it" case.
 */
class GoBgpInteropIT {
    @Test
    void vpnRoutesFlowBothWaysWithGoBgp() throws Exception {
        InetSocketAddress ours = address(60);
        GoBgpd.Config theirs = GoBgpd.Config.of("127.0.0.61", AS, "10.255.0.61")
                .withNeighbor(GoBgpd.Neighbor.of(ours.getHostString(), ours.getPort(), AS));
        try (GoBgpd gobgp = GoBgpd.start(theirs);
             BgpSpeaker speaker = BgpSpeaker.start(config(AS, 60, ours)
                     .peer(PeerConfig.of(new InetSocketAddress(theirs.localAddress(), theirs.listenPort()), AS)).build())) {
            InetSocketAddress gobgpAddress = new InetSocketAddress(theirs.localAddress(), theirs.listenPort());
            await("session with gobgpd", () -> peer(speaker, gobgpAddress).state() == SessionState.ESTABLISHED);
            assertThat(peer(speaker, gobgpAddress).extensionVersion()).isZero();

            gobgp.addVpnv4("192.0.2.61:5", "10.77.0.0/24", 777, "192.0.2.61", List.of("64512:777"), "vxlan");
            await("GoBGP's route in our Loc-RIB", () -> speaker.locRibSize() == 1);
            VpnRoute fromGoBgp = speaker.bestPaths().getFirst();
            assertThat(fromGoBgp.rd()).isEqualTo(RouteDistinguisher.parse("192.0.2.61:5"));
            assertThat(fromGoBgp.prefix()).isEqualTo(Ipv4Prefix.parse("10.77.0.0/24"));
            assertThat(fromGoBgp.label()).isEqualTo(777);
            assertThat(fromGoBgp.nextHop()).isEqualTo(Ipv4Address.parse("192.0.2.61"));
            assertThat(fromGoBgp.communities()).contains(ExtendedCommunity.routeTargetForNetwork((int) AS, 777),
                    ExtendedCommunity.encapsulation(TunnelType.VXLAN));

            VpnRoute ours1 = route(62, 1001, "10.88.0.0/16");
            speaker.originate(ours1);
            await("our route in GoBGP's RIB", () -> rib(gobgp).stream().anyMatch(r -> r.prefix().equals("10.88.0.0/16")));
            GoBgpd.Vpnv4Route seen = rib(gobgp).stream().filter(r -> r.prefix().equals("10.88.0.0/16")).findFirst().orElseThrow();
            assertThat(seen.rd()).isEqualTo("192.0.2.62:1001");
            assertThat(seen.label()).isEqualTo(1001);
            assertThat(seen.nextHop()).isEqualTo("192.0.2.62");

            gobgp.deleteVpnv4("192.0.2.61:5", "10.77.0.0/24", 777);
            await("GoBGP's withdrawal", () -> speaker.locRibSize() == 1);
            speaker.withdraw(ours1.rd(), ours1.prefix());
            await("our withdrawal at GoBGP", () -> rib(gobgp).stream().noneMatch(r -> r.prefix().equals("10.88.0.0/16")));
        }
    }

    private static List<GoBgpd.Vpnv4Route> rib(GoBgpd gobgp) {
        try {
            return gobgp.rib();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
