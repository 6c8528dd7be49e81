package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.Update;
import dev.vnet.bgp.wire.VpnNlriList;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What a peer's UPDATE does to the RIBs: the receive-side rules. */
class RibTest {
    private static final long AS = 64512;
    private static final int ROUTER_ID = 0x0AFF0001;
    private static final ExtendedCommunity RED = ExtendedCommunity.routeTargetForNetwork((int) AS, 1);
    private static final ExtendedCommunity BLUE = ExtendedCommunity.routeTargetForNetwork((int) AS, 2);

    private final List<Runnable> tasks = new ArrayList<>();
    private final List<String> changes = new ArrayList<>();
    private final Rib rib = new Rib(AS, ROUTER_ID, ROUTER_ID, ImportFilter.ALL, tasks::add,
            (prefix, previous, current) -> changes.add(prefix.address() + (current == null ? " gone" : " via " + current.source())));

    private static final UpdateSink DISCARD = new UpdateSink() {
        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public ByteBufAllocator alloc() {
            return UnpooledByteBufAllocator.DEFAULT;
        }

        @Override
        public void send(ByteBuf messages) {
            messages.release();
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean fourOctetAs() {
            return true;
        }
    };

    private Rib.PeerRib peer(RouteSource.Kind kind, long as, int id) {
        RouteSource source = new RouteSource(kind, as, id, id, false);
        return rib.peerUp(new PeerRole(source, kind == RouteSource.Kind.EXTERNAL, false), DISCARD);
    }

    private static Update routes(PathAttributes attributes, int... addresses) {
        VpnNlriList nlri = new VpnNlriList();
        for (int address : addresses) {
            nlri.add(1, address, 32, VpnNlriList.labelEntryOf(5));
        }
        return Update.reach(attributes, nlri);
    }

    private static PathAttributes.Builder attributes() {
        return PathAttributes.builder().origin(0).asPath(AsPath.EMPTY).nextHop(9).extendedCommunities(List.of(RED));
    }

    @Test
    void routesFromAnInternalPeerEnterAndLeaveWithTheSession() {
        Rib.PeerRib peer = peer(RouteSource.Kind.INTERNAL, AS, 2);

        rib.update(peer, routes(attributes().build(), 1, 2, 3));
        assertThat(rib.locRib().size()).isEqualTo(3);
        assertThat(peer.received()).isEqualTo(3);

        rib.peerDown(peer);
        assertThat(rib.locRib().size()).isZero();
        assertThat(changes).hasSize(6);
    }

    @Test
    void reflectionLoopsAreTreatedAsWithdrawn() {
        Rib.PeerRib peer = peer(RouteSource.Kind.INTERNAL, AS, 2);
        rib.update(peer, routes(attributes().build(), 1));

        rib.update(peer, routes(attributes().originatorId(Integer.toUnsignedLong(ROUTER_ID)).build(), 1));
        assertThat(rib.locRib().size()).isZero();

        rib.update(peer, routes(attributes().clusterList(new int[] {7, ROUTER_ID}).build(), 1));
        assertThat(rib.locRib().size()).isZero();
        assertThat(peer.treatedAsWithdraw()).isEqualTo(2);
    }

    @Test
    void externalPathsMustStartWithThePeersAsAndNotHoldOurs() {
        Rib.PeerRib peer = peer(RouteSource.Kind.EXTERNAL, 65001, 2);

        rib.update(peer, routes(attributes().asPath(AsPath.sequence(65001)).localPref(900).build(), 1));
        assertThat(rib.locRib().best(new VpnPrefix(1, 1, 32)).attributes().localPref()).isEqualTo(-1);

        rib.update(peer, routes(attributes().asPath(AsPath.sequence(65009)).build(), 1));
        assertThat(rib.locRib().size()).isZero();

        rib.update(peer, routes(attributes().asPath(AsPath.sequence(65001, (int) AS)).build(), 2));
        assertThat(rib.locRib().size()).isZero();
    }

    @Test
    void treatAsWithdrawUpdatesRemoveTheirRoutes() {
        Rib.PeerRib peer = peer(RouteSource.Kind.INTERNAL, AS, 2);
        rib.update(peer, routes(attributes().build(), 1, 2));

        byte[] malformed = dev.vnet.bgp.wire.RawMessages.update(
                dev.vnet.bgp.wire.RawMessages.mpReach(9, dev.vnet.bgp.wire.RawMessages.vpnNlri(5, 1, 1, 32)),
                dev.vnet.bgp.wire.RawMessages.origin(5), dev.vnet.bgp.wire.RawMessages.asPath());
        rib.update(peer, (Update) dev.vnet.bgp.wire.RawMessages.decodeOne(malformed));

        assertThat(rib.locRib().size()).isEqualTo(1);
        assertThat(peer.received()).isEqualTo(1);
    }

    @Test
    void theImportFilterKeepsRoutesOutOfTheLocRibButInTheAdjRibInAndCanBeChanged() {
        Rib.PeerRib peer = peer(RouteSource.Kind.INTERNAL, AS, 2);
        rib.importFilter(ImportFilter.routeTargets(Set.of(BLUE)));

        rib.update(peer, routes(attributes().build(), 1));
        rib.update(peer, routes(attributes().extendedCommunities(List.of(BLUE)).build(), 2));
        assertThat(rib.locRib().size()).isEqualTo(1);
        assertThat(peer.received()).isEqualTo(2);

        rib.importFilter(ImportFilter.routeTargets(Set.of(RED, BLUE)));
        assertThat(rib.locRib().size()).isEqualTo(2);
        rib.importFilter(ImportFilter.routeTargets(Set.of(RED)));
        assertThat(rib.locRib().size()).isEqualTo(1);
    }

    @Test
    void adjRibOutWritesAreDeferredToTheExecutorAndCoalesced() {
        Rib.PeerRib peer = peer(RouteSource.Kind.INTERNAL, AS, 2);
        tasks.forEach(Runnable::run);
        tasks.clear();

        for (int i = 0; i < 100; i++) {
            rib.originate(new VpnPrefix(3, i, 32), VpnNlriList.labelEntryOf(1), attributes().build());
        }

        assertThat(tasks).hasSize(1);
        assertThat(peer.advertised()).isZero();
        tasks.getFirst().run();
        assertThat(peer.advertised()).isEqualTo(100);
    }
}
