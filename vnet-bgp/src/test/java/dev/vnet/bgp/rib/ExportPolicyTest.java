package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.PathAttributes;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ExportPolicyTest {
    private static final long AS = 64512;
    private static final int CLUSTER = 0x0AFF0001;
    private static final VpnPrefix PREFIX = new VpnPrefix(1, 0x0A000000, 24);
    private static final PathAttributes LEARNED = PathAttributes.builder().origin(0).asPath(AsPath.EMPTY).nextHop(7).localPref(150).med(20).build();

    private final ExportPolicy policy = new ExportPolicy(AS, CLUSTER);

    private static RouteSource internal(int id, boolean client) {
        return new RouteSource(RouteSource.Kind.INTERNAL, AS, id, id, client);
    }

    private static PeerRole internalPeer(int id, boolean client) {
        return new PeerRole(internal(id, client), false, client);
    }

    @Test
    void internalRoutesGoToInternalPeersOnlyByReflection() {
        Path fromNonClient = new Path(PREFIX, 17, LEARNED, internal(2, false));
        Path fromClient = new Path(PREFIX, 17, LEARNED, internal(3, true));

        assertThat(policy.export(fromNonClient, internalPeer(4, false))).isNull();
        assertThat(policy.export(fromNonClient, internalPeer(5, true))).isNotNull();
        assertThat(policy.export(fromClient, internalPeer(4, false))).isNotNull();
        assertThat(policy.export(fromClient, internalPeer(5, true))).isNotNull();
    }

    @Test
    void reflectionSetsTheOriginatorAndPrependsTheCluster() {
        PathAttributes alreadyReflected = LEARNED.toBuilder().clusterList(new int[] {99}).originatorId(42).build();

        PathAttributes first = policy.export(new Path(PREFIX, 17, LEARNED, internal(3, true)), internalPeer(5, true));
        PathAttributes second = policy.export(new Path(PREFIX, 17, alreadyReflected, internal(3, true)), internalPeer(5, true));

        assertThat(first.originatorId()).isEqualTo(3);
        assertThat(first.clusterList()).containsExactly(CLUSTER);
        assertThat(second.originatorId()).isEqualTo(42);
        assertThat(second.clusterList()).containsExactly(CLUSTER, 99);
        assertThat(first.localPref()).isEqualTo(150);
        assertThat(first.nextHop()).isEqualTo(7);
    }

    @Test
    void externalPeersGetOurAsWithoutLocalPrefOrReflectionAttributesOrAForeignMed() {
        RouteSource otherAs = new RouteSource(RouteSource.Kind.EXTERNAL, 65001, 9, 9, false);
        Path learned = new Path(PREFIX, 17, LEARNED.toBuilder().asPath(AsPath.sequence(65001)).originatorId(3).clusterList(new int[] {1}).build(), otherAs);
        RouteSource local = new RouteSource(RouteSource.Kind.LOCAL, AS, 0, 1, false);
        Path own = new Path(PREFIX, 17, LEARNED, local);
        PeerRole external = new PeerRole(new RouteSource(RouteSource.Kind.EXTERNAL, 65002, 8, 8, false), true, false);

        PathAttributes passedOn = policy.export(learned, external);
        PathAttributes originated = policy.export(own, external);

        assertThat(passedOn.asPath()).isEqualTo(AsPath.sequence((int) AS, 65001));
        assertThat(passedOn.localPref()).isEqualTo(-1);
        assertThat(passedOn.originatorId()).isEqualTo(-1);
        assertThat(passedOn.clusterList()).isNull();
        assertThat(passedOn.med()).isEqualTo(-1);
        assertThat(originated.med()).isEqualTo(20);
        assertThat(policy.export(learned, new PeerRole(otherAs, true, false))).isNull();
    }
}
