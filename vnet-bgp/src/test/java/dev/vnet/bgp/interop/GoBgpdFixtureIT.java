package dev.vnet.bgp.interop;

import dev.vnet.bgp.interop.GoBgpd.Config;
import dev.vnet.bgp.interop.GoBgpd.Vpnv4Route;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The GoBGP fixture against itself: two real gobgpd peered over iBGP (AS 65000) on 127.0.0.1 and
 * 127.0.0.2, a VPNv4 route originated on one and seen with all its fields on the other, then withdrawn.
 * Needs the Debian package gobgpd (./vnet test and .ci/run install it); fails, not skips, without it.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GoBgpdFixtureIT {
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30); // gobgpd's first connect waits 5-10 s
    private static final Duration ROUTE_TIMEOUT = Duration.ofSeconds(10);

    @Test
    void aVpnv4RouteGoesFromOneGobgpdToTheOtherWithAllItsFieldsAndIsWithdrawn() throws Exception {
        Config a = Config.of("127.0.0.1", 65000, "10.255.0.1");
        Config b = Config.of("127.0.0.2", 65000, "10.255.0.2");
        a = a.withNeighbor(b.asNeighbor());
        b = b.withNeighbor(a.asNeighbor());
        try (GoBgpd left = GoBgpd.start(a); GoBgpd right = GoBgpd.start(b)) {
            left.awaitEstablished("127.0.0.2", SESSION_TIMEOUT);
            right.awaitEstablished("127.0.0.1", SESSION_TIMEOUT);
            assertThat(right.rib()).isEmpty();

            left.addVpnv4("65000:100", "10.10.0.0/24", 100, "10.255.0.1", List.of("65000:100"), "vxlan");

            Vpnv4Route local = awaitRoute(left, "10.10.0.0/24");
            assertThat(local.neighbor()).as("a local route has no neighbor").isNull();
            Vpnv4Route learned = awaitRoute(right, "10.10.0.0/24");
            assertThat(learned.rd()).isEqualTo("65000:100");
            assertThat(learned.prefix()).isEqualTo("10.10.0.0/24");
            assertThat(learned.label()).isEqualTo(100);
            assertThat(learned.nextHop()).isEqualTo("10.255.0.1");
            assertThat(learned.routeTargets()).containsExactly("65000:100");
            assertThat(learned.encapsulations()).containsExactly("vxlan");
            assertThat(learned.encapsulation()).isEqualTo("vxlan");
            assertThat(learned.otherExtendedCommunities()).isEmpty();
            assertThat(learned.asPath()).as("iBGP adds no AS").isEmpty();
            assertThat(learned.localPref()).isEqualTo(100L);
            assertThat(learned.best()).isTrue();
            assertThat(learned.neighbor()).isEqualTo("127.0.0.1");
            assertThat(right.vpnv4PathCount()).isEqualTo(1);

            left.deleteVpnv4("65000:100", "10.10.0.0/24", 100);
            long deadline = System.nanoTime() + ROUTE_TIMEOUT.toNanos();
            while (!right.rib().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(right.rib()).as("withdrawn on the peer").isEmpty();
            assertThat(left.rib()).isEmpty();
            assertThat(right.neighborState("127.0.0.1")).isEqualTo(GoBgpd.ESTABLISHED);
        }
    }

    @Test
    void otherRdAndRouteTargetFormsAndSeveralCommunitiesRoundTrip() throws Exception {
        try (GoBgpd speaker = GoBgpd.start(Config.of("127.0.0.3", 4200000000L, "10.255.0.3"))) {
            speaker.addVpnv4("4200000000:7", "10.20.0.0/16", 0xFFFFF, "10.255.1.2",
                    List.of("10.0.0.1:7", "4200000000:9", "65000:1"), "mpls-in-gre");
            speaker.addVpnv4("10.0.0.1:5", "10.21.0.0/24", 5, "10.255.1.3", List.of(), null);

            List<Vpnv4Route> rib = speaker.rib();
            assertThat(rib).hasSize(2);
            Vpnv4Route first = rib.stream().filter(r -> r.prefix().equals("10.20.0.0/16")).findFirst().orElseThrow();
            assertThat(first.rd()).isEqualTo("4200000000:7");
            assertThat(first.label()).isEqualTo(0xFFFFF);
            assertThat(first.nextHop()).isEqualTo("10.255.1.2");
            assertThat(first.routeTargets()).containsExactly("10.0.0.1:7", "4200000000:9", "65000:1");
            assertThat(first.encapsulations()).containsExactly("mpls-in-gre");
            Vpnv4Route second = rib.stream().filter(r -> r.prefix().equals("10.21.0.0/24")).findFirst().orElseThrow();
            assertThat(second.rd()).isEqualTo("10.0.0.1:5");
            assertThat(second.routeTargets()).isEmpty();
            assertThat(second.encapsulation()).isNull();
        }
    }

    @Test
    void closeKillsGobgpdAndDeletesItsDirectory() throws Exception {
        GoBgpd speaker = GoBgpd.start(Config.of("127.0.0.4", 65000, "10.255.0.4"));
        ProcessHandle process = speaker.process().orElseThrow();
        assertThat(process.info().command()).hasValueSatisfying(command -> assertThat(command).endsWith("gobgpd"));
        assertThatThrownBy(() -> speaker.neighborState("127.0.0.9"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not found neighbor 127.0.0.9");
        speaker.close();
        assertThat(process.isAlive()).isFalse();
        assertThat(Files.exists(speaker.log())).isFalse();
        assertThat(speaker.process()).isEqualTo(Optional.empty());
    }

    @Test
    void configRejectsNonLoopbackAddressesAndUnknownEncapsulations() throws Exception {
        assertThatThrownBy(() -> Config.of("10.0.0.1", 65000, "10.255.0.1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loopback");
        try (GoBgpd speaker = GoBgpd.start(Config.of("127.0.0.5", 65000, "10.255.0.5"))) {
            assertThatThrownBy(() -> speaker.addVpnv4("65000:1", "10.0.0.0/24", 1, "10.255.0.1", List.of(), "ipsec"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vxlan");
        }
    }

    /**
     * {@code gobgp global rib -a vpnv4 -j} as gobgpd 3.10 printed it for an eBGP-learned route (its
     * MP_REACH_NLRI lists every NLRI of the UPDATE it came in; the path's own is "nlri"), plus an RD of
     * type 1, a 4-octet-AS route target (printed in asdot) and a community the record does not decode.
     */
    @Test
    void parsesGobgpRibJson() {
        String json = """
                {"65000:1:10.0.0.0/24":[{"nlri":{"prefix":"10.0.0.0/24","labels":[16],"rd":{"type":0,"admin":65000,"assigned":1}},\
                "age":1795278925,"best":true,"attrs":[{"type":1,"value":0},\
                {"type":2,"as_paths":[{"segment_type":2,"num":2,"asns":[65099,65100]}]},\
                {"type":16,"value":[{"type":0,"subtype":2,"value":"65000:1"},{"type":3,"subtype":12,"tunnel_type":8}]},\
                {"type":14,"nexthop":"10.255.0.1","afi":1,"safi":128,"value":[\
                {"prefix":"10.0.0.0/24","labels":[16],"rd":{"type":0,"admin":65000,"assigned":1}},\
                {"prefix":"10.0.1.0/24","labels":[17],"rd":{"type":0,"admin":65000,"assigned":1}}]}],\
                "stale":false,"source-id":"10.255.0.99","neighbor-ip":"127.0.0.32"}],\
                "10.0.0.1:5:10.11.0.0/24":[{"nlri":{"prefix":"10.11.0.0/24","labels":[1048575],"rd":{"type":1,"admin":"10.0.0.1","assigned":5}},\
                "age":1795278208,"best":false,"attrs":[{"type":1,"value":2},{"type":2,"as_paths":[]},{"type":5,"value":200},\
                {"type":16,"value":[{"type":2,"subtype":2,"value":"64086.59904:9"},{"type":3,"subtype":12,"tunnel_type":19},\
                {"type":3,"subtype":11,"color":7}]},\
                {"type":14,"nexthop":"10.255.0.3","afi":1,"safi":128,"value":[]}],"stale":false}]}
                """;
        List<Vpnv4Route> rib = GoBgpd.parseRib(json);
        assertThat(rib).containsExactlyInAnyOrder(
                new Vpnv4Route("65000:1", "10.0.0.0/24", 16, "10.255.0.1", List.of("65000:1"), List.of("vxlan"),
                        List.of(), List.of(65099L, 65100L), null, true, "127.0.0.32"),
                new Vpnv4Route("10.0.0.1:5", "10.11.0.0/24", 1048575, "10.255.0.3", List.of("4200000000:9"),
                        List.of("geneve"), List.of("{\"type\":3,\"subtype\":11,\"color\":7}"), List.of(), 200L, false, null));
        assertThat(GoBgpd.parseRib("{}")).isEmpty();
        assertThat(GoBgpd.parseRib("")).isEmpty();
    }

    private static Vpnv4Route awaitRoute(GoBgpd speaker, String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + ROUTE_TIMEOUT.toNanos();
        while (true) {
            Optional<Vpnv4Route> route = speaker.rib().stream().filter(r -> r.prefix().equals(prefix)).findFirst();
            if (route.isPresent()) {
                return route.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(prefix + " not in the RIB of " + speaker + " within "
                        + ROUTE_TIMEOUT.toSeconds() + " s:\n" + speaker.tail());
            }
            Thread.sleep(100);
        }
    }
}
