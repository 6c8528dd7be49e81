package dev.vnet.bgp;

import dev.vnet.bgp.session.SessionState;
import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.RouteDistinguisher;
import dev.vnet.bgp.wire.TunnelType;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.vnet.bgp.TestSpeakers.AS;
import static dev.vnet.bgp.TestSpeakers.address;
import static dev.vnet.bgp.TestSpeakers.await;
import static dev.vnet.bgp.TestSpeakers.config;
import static dev.vnet.bgp.TestSpeakers.peer;
import static dev.vnet.bgp.TestSpeakers.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Smoke test against GoBGP (the Debian package's gobgpd and gobgp; skipped when they are not installed):
 * an iBGP session over loopback carrying VPN-IPv4 both ways. GoBGP has no vnet extension capability, so
 * this is also the "peer without it" case.
 */
class GoBgpInteropIT {
    private static final Path GOBGPD = Path.of("/usr/bin/gobgpd");
    private static final Path GOBGP = Path.of("/usr/bin/gobgp");

    @TempDir
    Path dir;
    private Process gobgpd;
    private BgpSpeaker speaker;
    private InetSocketAddress api;

    @AfterEach
    void stop() throws InterruptedException {
        if (speaker != null) {
            speaker.close();
        }
        if (gobgpd != null) {
            gobgpd.destroy();
            if (!gobgpd.waitFor(5, TimeUnit.SECONDS)) {
                gobgpd.destroyForcibly();
            }
        }
    }

    @Test
    void vpnRoutesFlowBothWaysWithGoBgp() throws Exception {
        assumeTrue(Files.isExecutable(GOBGPD) && Files.isExecutable(GOBGP), "gobgpd is not installed");
        InetSocketAddress ours = address(60);
        InetSocketAddress theirs = address(61);
        api = address(61);
        Files.writeString(dir.resolve("gobgpd.toml"), """
                [global.config]
                  as = %d
                  router-id = "10.255.0.61"
                  port = %d
                  local-address-list = ["%s"]
                [[neighbors]]
                  [neighbors.config]
                    neighbor-address = "%s"
                    peer-as = %d
                  [neighbors.transport.config]
                    remote-port = %d
                    local-address = "%s"
                  [neighbors.timers.config]
                    connect-retry = 1
                  [[neighbors.afi-safis]]
                    [neighbors.afi-safis.config]
                      afi-safi-name = "l3vpn-ipv4-unicast"
                """.formatted(AS, theirs.getPort(), theirs.getHostString(), ours.getHostString(), AS, ours.getPort(),
                theirs.getHostString()));
        gobgpd = new ProcessBuilder(GOBGPD.toString(), "-f", dir.resolve("gobgpd.toml").toString(), "-p", "--pprof-disable",
                "--api-hosts", api.getHostString() + ":" + api.getPort())
                .redirectErrorStream(true).redirectOutput(dir.resolve("gobgpd.log").toFile()).start();
        speaker = BgpSpeaker.start(config(AS, 60, ours).peer(PeerConfig.of(theirs, AS)).build());
        await("session with gobgpd", () -> peer(speaker, theirs).state() == SessionState.ESTABLISHED);
        assertThat(peer(speaker, theirs).extensionVersion()).isZero();

        gobgp("global", "rib", "-a", "vpnv4", "add", "10.77.0.0/24", "label", "777", "rd", "192.0.2.61:5",
                "rt", "64512:777", "encap", "vxlan", "nexthop", "192.0.2.61");
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
        await("our route in GoBGP's RIB", () -> gobgp("global", "rib", "-a", "vpnv4").contains("10.88.0.0/16"));
        String table = gobgp("global", "rib", "-a", "vpnv4");
        assertThat(table).contains("192.0.2.62:1001:10.88.0.0/16").contains("[1001]").contains("192.0.2.62");

        gobgp("global", "rib", "-a", "vpnv4", "del", "10.77.0.0/24", "label", "777", "rd", "192.0.2.61:5");
        await("GoBGP's withdrawal", () -> speaker.locRibSize() == 1);
        speaker.withdraw(ours1.rd(), ours1.prefix());
        await("our withdrawal at GoBGP", () -> !gobgp("global", "rib", "-a", "vpnv4").contains("10.88.0.0/16"));
    }

    private String gobgp(String... args) {
        List<String> command = new ArrayList<>(List.of(GOBGP.toString(), "-u", api.getHostString(), "-p", Integer.toString(api.getPort())));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " failed: " + output);
            }
            return output;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
