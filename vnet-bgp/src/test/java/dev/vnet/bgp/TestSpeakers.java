package dev.vnet.bgp;

import dev.vnet.bgp.session.ConnectRetry;
import dev.vnet.bgp.session.SessionState;
import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.RouteDistinguisher;
import dev.vnet.bgp.wire.TunnelType;
import dev.vnet.wire.Ipv4Address;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Speakers on loopback addresses of their own (127.0.0.N), and waiting for what they do. */
public final class TestSpeakers {
    public static final long AS = 64512;
    public static final Duration WAIT = Duration.ofSeconds(20);

    private TestSpeakers() {
    }

    /** A free port on 127.0.0.{@code host}. */
    public static InetSocketAddress address(int host) {
        try {
            InetAddress ip = InetAddress.getByName("127.0.0." + host);
            try (ServerSocket socket = new ServerSocket(0, 1, ip)) {
                return new InetSocketAddress(ip, socket.getLocalPort());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int routerId(int host) {
        return Ipv4Address.parse("10.255.0." + host);
    }

    public static SpeakerConfig.Builder config(long as, int host, InetSocketAddress listen) {
        return SpeakerConfig.builder(as, routerId(host)).listen(listen)
                .connectRetry(new ConnectRetry(Duration.ofMillis(100), Duration.ofMillis(400)));
    }

    /** A vnet route: network {@code network} on host 192.0.2.{@code host}. */
    public static VpnRoute route(int host, int network, String prefix) {
        int underlay = Ipv4Address.parse("192.0.2." + host);
        return new VpnRoute(RouteDistinguisher.forHost(underlay, network), Ipv4Prefix.parse(prefix), network, underlay,
                List.of(ExtendedCommunity.routeTargetForNetwork((int) AS, network), ExtendedCommunity.encapsulation(TunnelType.VNP)));
    }

    public static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    public static boolean established(BgpSpeaker speaker) {
        return speaker.peers().stream().allMatch(p -> p.state() == SessionState.ESTABLISHED);
    }

    public static PeerStatus peer(BgpSpeaker speaker, InetSocketAddress address) {
        return speaker.peers().stream().filter(p -> p.address().equals(address)).findFirst().orElseThrow();
    }
}
