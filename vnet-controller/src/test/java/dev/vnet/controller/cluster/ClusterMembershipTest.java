package dev.vnet.controller.cluster;

import dev.vnet.store.InMemoryConfigStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClusterMembershipTest {
    private static final Duration TTL = Duration.ofMillis(600);
    private final InMemoryConfigStore store = new InMemoryConfigStore();

    @AfterEach
    void close() {
        store.close();
    }

    private ClusterMembership join(String id) {
        return ClusterMembership.join(store, new ClusterMembership.Member(id, "10.255.0." + id.length() + ":47800", "", 1), TTL);
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }

    @Test
    void nodesSeeEachOtherAndAgreeOnEveryHostsOwner() throws Exception {
        ClusterMembership a = join("a");
        ClusterMembership b = join("b");
        ClusterMembership c = join("c");
        await(() -> a.live().size() == 3 && b.live().size() == 3);
        for (int h = 0; h < 100; h++) {
            String host = "host" + h;
            assertThat(a.ownerOf(host)).isEqualTo(b.ownerOf(host)).isEqualTo(c.ownerOf(host));
            assertThat(List.of(a.owns(host), b.owns(host), c.owns(host))).containsOnlyOnce(true);
        }
        c.close();
        await(() -> a.live().keySet().equals(Set.of("a", "b")));
        a.close();
        b.close();
    }

    @Test
    void aNodeThatStopsRenewingIsGoneAfterItsLeaseAndItsHostsMove() throws Exception {
        ClusterMembership a = join("a");
        ClusterMembership b = join("b");
        List<Map<String, ClusterMembership.Member>> seenByA = new CopyOnWriteArrayList<>();
        a.onChange(seenByA::add);
        await(() -> a.live().size() == 2);
        // Survives several lease lifetimes while renewing.
        Thread.sleep(TTL.toMillis() * 3);
        assertThat(a.live().keySet()).containsExactlyInAnyOrder("a", "b");

        b.stopRenewing(); // what a crash looks like to the others
        await(() -> a.live().keySet().equals(Set.of("a")));
        assertThat(seenByA.getLast().keySet()).containsExactly("a");
        assertThat(a.owns("any-host")).isTrue();
        a.close();
    }

    @Test
    void aSecondLiveNodeWithTheSameIdIsRefusedButMayJoinOnceTheFirstLeft() {
        ClusterMembership first = join("a");
        assertThatThrownBy(() -> join("a")).hasMessageContaining("already has the id a");
        first.close();
        join("a").close();
    }
}
