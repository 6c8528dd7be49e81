package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.PathAttributes;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BestPathSelectionTest {
    private static final VpnPrefix PREFIX = new VpnPrefix(1, 0x0A000000, 24);

    private static RouteSource internal(int address, int routerId) {
        return new RouteSource(RouteSource.Kind.INTERNAL, 64512, address, routerId, false);
    }

    private static RouteSource external(int address, int routerId, long as) {
        return new RouteSource(RouteSource.Kind.EXTERNAL, as, address, routerId, false);
    }

    private static Path path(RouteSource source, PathAttributes.Builder attributes) {
        return new Path(PREFIX, 1, attributes.origin(0).build(), source);
    }

    private static Path best(Path... paths) {
        return BestPathSelection.select(paths.clone(), paths.length);
    }

    @Test
    void eachRuleDecidesWhenTheOnesBeforeItTie() {
        Path highPref = path(internal(1, 1), PathAttributes.builder().asPath(AsPath.sequence(1, 2, 3)).localPref(200));
        Path shortPath = path(internal(2, 2), PathAttributes.builder().asPath(AsPath.sequence(1)).localPref(100));
        assertThat(best(shortPath, highPref)).isSameAs(highPref);

        Path longer = path(internal(3, 3), PathAttributes.builder().asPath(AsPath.sequence(1, 2)));
        assertThat(best(longer, shortPath)).isSameAs(shortPath);

        Path igp = path(internal(4, 4), PathAttributes.builder().asPath(AsPath.sequence(1)));
        Path incomplete = new Path(PREFIX, 1, PathAttributes.builder().origin(2).asPath(AsPath.sequence(1)).build(), internal(5, 5));
        assertThat(best(incomplete, igp)).isSameAs(igp);

        Path ebgp = path(external(6, 9, 1), PathAttributes.builder().asPath(AsPath.sequence(1)));
        Path ibgp = path(internal(7, 1), PathAttributes.builder().asPath(AsPath.sequence(1)));
        assertThat(best(ibgp, ebgp)).isSameAs(ebgp);

        Path lowId = path(internal(9, 1), PathAttributes.builder().asPath(AsPath.EMPTY));
        Path highId = path(internal(8, 2), PathAttributes.builder().asPath(AsPath.EMPTY));
        assertThat(best(highId, lowId)).isSameAs(lowId);

        Path reflectedLowOriginator = path(internal(10, 7), PathAttributes.builder().asPath(AsPath.EMPTY).originatorId(1).clusterList(new int[] {5}));
        Path direct = path(internal(11, 2), PathAttributes.builder().asPath(AsPath.EMPTY));
        assertThat(best(direct, reflectedLowOriginator)).isSameAs(reflectedLowOriginator);

        Path lowAddress = path(internal(12, 3), PathAttributes.builder().asPath(AsPath.EMPTY));
        Path highAddress = path(internal(13, 3), PathAttributes.builder().asPath(AsPath.EMPTY));
        assertThat(best(highAddress, lowAddress)).isSameAs(lowAddress);

        Path local = new Path(PREFIX, 1, PathAttributes.builder().origin(0).asPath(AsPath.EMPTY).build(),
                new RouteSource(RouteSource.Kind.LOCAL, 64512, 0, 99, false));
        assertThat(best(lowAddress, local)).isSameAs(local);
    }

    @Test
    void medOnlyComparesRoutesFromTheSameNeighbourAs() {
        // A (AS 1, MED 10) beats B (AS 1, MED 20); C (AS 2, MED 5) is not compared with B by MED.
        Path a = path(external(1, 30, 1), PathAttributes.builder().asPath(AsPath.sequence(1)).med(10));
        Path b = path(external(2, 10, 1), PathAttributes.builder().asPath(AsPath.sequence(1)).med(20));
        Path c = path(external(3, 20, 2), PathAttributes.builder().asPath(AsPath.sequence(2)).med(50));

        // B is out on MED; of A and C the lower identifier wins: C (20) over A (30)
        assertThat(best(a, b, c)).isSameAs(c);
        assertThat(best(c, b, a)).isSameAs(c);
        assertThat(best(a, b)).isSameAs(a);
    }

    @Test
    void theLocRibReportsBestPathChangesAndFallsBackWhenTheBestGoes() {
        List<String> changes = new ArrayList<>();
        LocRib rib = new LocRib((prefix, previous, current) -> changes.add((previous == null ? "-" : previous.source().peerAddress())
                + ">" + (current == null ? "-" : current.source().peerAddress())));
        RouteSource one = internal(1, 1);
        RouteSource two = internal(2, 2);

        rib.put(path(two, PathAttributes.builder().asPath(AsPath.EMPTY)));
        rib.put(path(one, PathAttributes.builder().asPath(AsPath.EMPTY)));
        rib.put(path(two, PathAttributes.builder().asPath(AsPath.EMPTY).localPref(300)));
        rib.remove(PREFIX, two);
        rib.remove(PREFIX, one);

        assertThat(changes).containsExactly("->2", "2>1", "1>2", "2>1", "1>-");
        assertThat(rib.size()).isZero();
    }
}
