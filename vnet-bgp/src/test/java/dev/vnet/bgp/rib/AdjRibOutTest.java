package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.BgpMessageDecoder;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.Update;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AdjRibOutTest {
    private static final PathAttributes ATTRIBUTES = PathAttributes.builder().origin(0).asPath(AsPath.EMPTY).nextHop(0x0A000001).build();

    /** Collects what is sent, decoded; writable only when the test says so. */
    private static final class Sink implements UpdateSink {
        final EmbeddedChannel decoder = new EmbeddedChannel(new BgpMessageDecoder());
        boolean writable = true;
        int flushes;

        @Override
        public boolean isWritable() {
            return writable;
        }

        @Override
        public ByteBufAllocator alloc() {
            return UnpooledByteBufAllocator.DEFAULT;
        }

        @Override
        public void send(ByteBuf messages) {
            decoder.writeInbound(messages);
        }

        @Override
        public void flush() {
            flushes++;
        }

        @Override
        public boolean fourOctetAs() {
            return true;
        }

        List<Update> updates() {
            List<Update> updates = new ArrayList<>();
            for (Object message; (message = decoder.readInbound()) != null; ) {
                updates.add((Update) message);
            }
            return updates;
        }
    }

    private final RouteSource local = new RouteSource(RouteSource.Kind.LOCAL, 64512, 0, 1, false);
    private final RouteSource peerSource = new RouteSource(RouteSource.Kind.INTERNAL, 64512, 2, 2, false);
    private final LocRib locRib = new LocRib((prefix, previous, current) -> { });
    private final ExportPolicy policy = new ExportPolicy(64512, 1);
    private final Sink sink = new Sink();
    private final AdjRibOut out = new AdjRibOut(new PeerRole(peerSource, false, false), sink);

    private VpnPrefix originate(int i, PathAttributes attributes) {
        VpnPrefix prefix = new VpnPrefix(1, 0x0A000000 + (i << 8), 24);
        locRib.put(new Path(prefix, (i + 16) << 4 | 1, attributes, local));
        return prefix;
    }

    @Test
    void aTableTransferPacksRoutesOfOneAttributeSetIntoFewUpdatesThenSendsEndOfRib() {
        for (int i = 0; i < 1000; i++) {
            originate(i, ATTRIBUTES);
        }
        out.transferTable(locRib.bestPaths());

        assertThat(out.flush(locRib, policy)).isTrue();

        List<Update> updates = sink.updates();
        assertThat(updates.getLast().isEndOfRib()).isTrue();
        assertThat(updates.subList(0, updates.size() - 1)).hasSizeLessThanOrEqualTo(5)
                .allSatisfy(update -> assertThat(update.attributes().localPref()).isEqualTo(100));
        assertThat(updates.stream().mapToInt(u -> u.reach().size()).sum()).isEqualTo(1000);
        assertThat(out.size()).isEqualTo(1000);
    }

    @Test
    void nothingIsWrittenWhileTheSessionIsFullAndEverythingWhenItDrains() {
        for (int i = 0; i < 10; i++) {
            originate(i, ATTRIBUTES);
        }
        out.transferTable(locRib.bestPaths());
        sink.writable = false;

        assertThat(out.flush(locRib, policy)).isFalse();
        assertThat(sink.updates()).isEmpty();

        sink.writable = true;
        assertThat(out.flush(locRib, policy)).isTrue();
        assertThat(sink.updates()).hasSize(2);
    }

    @Test
    void changesAreCoalescedAndOnlyAdvertisedRoutesAreWithdrawn() {
        VpnPrefix prefix = originate(1, ATTRIBUTES);
        out.changed(prefix);
        out.flush(locRib, policy);
        sink.updates();

        // three changes before the session takes data: one UPDATE with the last state
        PathAttributes med5 = ATTRIBUTES.toBuilder().med(5).build();
        originate(1, ATTRIBUTES.toBuilder().med(4).build());
        out.changed(prefix);
        originate(1, med5);
        out.changed(prefix);
        out.changed(prefix);
        out.flush(locRib, policy);
        assertThat(sink.updates()).singleElement().satisfies(u -> assertThat(u.attributes().med()).isEqualTo(5));

        locRib.remove(prefix, local);
        VpnPrefix neverSent = new VpnPrefix(2, 0, 8);
        out.changed(prefix);
        out.changed(neverSent);
        out.flush(locRib, policy);
        assertThat(sink.updates()).singleElement().satisfies(u -> assertThat(u.withdrawn().size()).isEqualTo(1));
        assertThat(out.size()).isZero();
    }

    @Test
    void routesFromTheSessionItselfAreNotSentBack() {
        VpnPrefix prefix = new VpnPrefix(1, 0x0A000000, 24);
        locRib.put(new Path(prefix, 17, ATTRIBUTES, peerSource));
        out.changed(prefix);

        out.flush(locRib, policy);

        assertThat(sink.updates()).isEmpty();
    }
}
