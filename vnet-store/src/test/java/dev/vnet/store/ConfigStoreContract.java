package dev.vnet.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The semantics every {@link ConfigStore} engine must have (see its Javadoc). Each engine's test
 * extends this and says how to open a fresh, empty store; keys live under a per-test prefix so that an
 * engine whose store outlives a test (etcd) still starts each test clean.
 */
public abstract class ConfigStoreContract {
    protected ConfigStore store;
    protected String p;

    /** A store with nothing under {@link #p}. */
    protected abstract ConfigStore open() throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        p = "/t" + System.nanoTime() + "/";
        store = open();
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    protected static byte[] b(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyWriteTakesTheNextRevisionAndEntriesCarryTheirHistory() {
        long start = store.revision();
        long first = store.put(p + "a", b("1"));
        long second = store.put(p + "a", b("2"));
        assertThat(first).isEqualTo(start + 1);
        assertThat(second).isEqualTo(first + 1);
        KeyValue a = store.get(p + "a").orElseThrow();
        assertThat(a.valueAsString()).isEqualTo("2");
        assertThat(a.createRevision()).isEqualTo(first);
        assertThat(a.modRevision()).isEqualTo(second);
        assertThat(a.version()).isEqualTo(2);
        assertThat(a.lease()).isZero();
        assertThat(store.revision()).isEqualTo(second);
    }

    @Test
    void emptyValuesAndNonAsciiKeysRoundTripAndValuesAreCopiedInAndOut() {
        store.put(p + "empty", new byte[0]);
        store.put(p + "ünïcødé/🦆", new byte[] {0, -1, 127, -128});
        byte[] written = b("original");
        store.put(p + "copied", written);
        written[0] = 'X';
        store.get(p + "copied").orElseThrow().value()[0] = 'Y';
        store.range(p).entries().getFirst().value()[0] = 'Z';

        assertThat(store.get(p + "empty").orElseThrow().value()).isEmpty();
        assertThat(store.get(p + "ünïcødé/🦆").orElseThrow().value()).containsExactly(0, -1, 127, -128);
        assertThat(store.get(p + "copied").orElseThrow().valueAsString()).isEqualTo("original");
    }

    @Test
    void nullAndEmptyKeysAreRefused() {
        for (String key : new String[] {null, ""}) {
            assertThatThrownBy(() -> store.get(key)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.put(key, b("v"))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.delete(key)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> store.range(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsAndMissesDoNotMoveTheRevision() {
        store.put(p + "x", b("x"));
        long revision = store.revision();
        assertThat(store.get(p + "missing")).isEmpty();
        assertThat(store.delete(p + "missing")).isFalse();
        store.range(p);
        assertThat(store.revision()).isEqualTo(revision);
    }

    @Test
    void rangeReturnsThePrefixInKeyOrderAtOneRevision() {
        store.put(p + "b", b("2"));
        store.put(p + "a", b("1"));
        store.put(p + "c/d", b("3"));
        store.put(p.substring(0, p.length() - 1) + "x", b("outside"));
        ConfigStore.Range range = store.range(p);
        assertThat(range.entries()).extracting(KeyValue::key).containsExactly(p + "a", p + "b", p + "c/d");
        assertThat(range.revision()).isEqualTo(store.revision());
    }

    @Test
    void deleteSaysWhetherTheKeyExistedAndARecreatedKeyStartsOver() {
        store.put(p + "k", b("v"));
        assertThat(store.delete(p + "k")).isTrue();
        assertThat(store.get(p + "k")).isEmpty();
        long recreated = store.put(p + "k", b("w"));
        KeyValue k = store.get(p + "k").orElseThrow();
        assertThat(k.version()).isEqualTo(1);
        assertThat(k.createRevision()).isEqualTo(recreated);
    }

    @Test
    void putIfAbsentAndCompareAndSetOnlyWriteWhenTheirConditionHolds() {
        assertThat(store.putIfAbsent(p + "k", b("first"))).isTrue();
        assertThat(store.putIfAbsent(p + "k", b("second"))).isFalse();
        long modRevision = store.get(p + "k").orElseThrow().modRevision();
        assertThat(store.compareAndSet(p + "k", modRevision - 1, b("stale"))).isFalse();
        assertThat(store.compareAndSet(p + "k", modRevision, b("fresh"))).isTrue();
        assertThat(store.get(p + "k").orElseThrow().valueAsString()).isEqualTo("fresh");
        assertThat(store.compareAndSet(p + "new", 0, b("created"))).isTrue();
    }

    @Test
    void aTransactionRunsOneBranchAtomicallyAtOneRevision() {
        store.put(p + "owner", b("alice"));
        TxnResult taken = store.commit(Txn.begin()
                .when(Compare.value(p + "owner", Compare.Result.EQUAL, b("alice")), Compare.absent(p + "lock"))
                .then(Op.put(p + "lock", b("alice")), Op.put(p + "count", b("1")), Op.get(p + "owner"))
                .orElse(Op.get(p + "lock")));
        assertThat(taken.succeeded()).isTrue();
        assertThat(taken.results()).hasSize(3);
        assertThat(taken.results().get(2).entry().orElseThrow().valueAsString()).isEqualTo("alice");
        assertThat(store.get(p + "lock").orElseThrow().modRevision()).isEqualTo(taken.revision());
        assertThat(store.get(p + "count").orElseThrow().modRevision()).isEqualTo(taken.revision());

        TxnResult refused = store.commit(Txn.begin()
                .when(Compare.absent(p + "lock"))
                .then(Op.put(p + "lock", b("bob")))
                .orElse(Op.get(p + "lock")));
        assertThat(refused.succeeded()).isFalse();
        assertThat(refused.revision()).isEqualTo(taken.revision());
        assertThat(refused.results().getFirst().entry().orElseThrow().valueAsString()).isEqualTo("alice");
    }

    @Test
    void deletePrefixRemovesTheSubtreeInOneRevision() {
        store.put(p + "net/1", b("a"));
        store.put(p + "net/1/sub", b("b"));
        store.put(p + "other", b("c"));
        TxnResult result = store.commit(Txn.begin().then(Op.deletePrefix(p + "net/")));
        assertThat(result.results().getFirst().deleted()).isEqualTo(2);
        assertThat(store.range(p).entries()).extracting(KeyValue::key).containsExactly(p + "other");
    }

    @Test
    void concurrentCompareAndSetLosesNoUpdate() throws Exception {
        store.put(p + "counter", b("0"));
        int threads = 8;
        int increments = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < increments; i++) {
                        while (true) {
                            KeyValue current = store.get(p + "counter").orElseThrow();
                            int next = Integer.parseInt(current.valueAsString()) + 1;
                            if (store.compareAndSet(p + "counter", current.modRevision(), b(Integer.toString(next)))) {
                                break;
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.get(p + "counter").orElseThrow().valueAsString()).isEqualTo(Integer.toString(threads * increments));
    }

    @Test
    void aWatchSeesPutsAndDeletesUnderItsPrefixInRevisionOrder() throws Exception {
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        try (Watch ignored = store.watch(p + "w/", 0, batch -> events.addAll(batch))) {
            long put = store.put(p + "w/a", b("1"));
            store.put(p + "elsewhere", b("x"));
            long delete = store.commit(Txn.begin().then(Op.delete(p + "w/a"))).revision();
            Event first = events.poll(10, TimeUnit.SECONDS);
            Event second = events.poll(10, TimeUnit.SECONDS);
            assertThat(first).isNotNull();
            assertThat(first.type()).isEqualTo(Event.Type.PUT);
            assertThat(first.key()).isEqualTo(p + "w/a");
            assertThat(first.entry().valueAsString()).isEqualTo("1");
            assertThat(first.revision()).isEqualTo(put);
            assertThat(second).isNotNull();
            assertThat(second.type()).isEqualTo(Event.Type.DELETE);
            assertThat(second.revision()).isEqualTo(delete);
            assertThat(events.poll(300, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    @Test
    void aWatchResumesFromAnEarlierRevisionWithoutGapsOrRepeats() throws Exception {
        long first = store.put(p + "r/1", b("1"));
        long second = store.put(p + "r/2", b("2"));
        store.put(p + "r/3", b("3"));
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        try (Watch ignored = store.watch(p + "r/", second, batch -> events.addAll(batch))) {
            long fourth = store.put(p + "r/4", b("4"));
            List<Long> revisions = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Event event = events.poll(10, TimeUnit.SECONDS);
                assertThat(event).as("event %d", i).isNotNull();
                revisions.add(event.revision());
            }
            assertThat(revisions).containsExactly(second, second + 1, fourth);
            assertThat(events.poll(300, TimeUnit.MILLISECONDS)).isNull();
        }
        assertThat(first).isLessThan(second);
    }

    @Test
    void aClosedWatchDeliversNothingMore() throws Exception {
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        Watch watch = store.watch(p, 0, batch -> events.addAll(batch));
        store.put(p + "before", b("1"));
        assertThat(events.poll(10, TimeUnit.SECONDS)).isNotNull();
        watch.close();
        store.put(p + "after", b("2"));
        assertThat(events.poll(500, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void revokingALeaseDeletesItsKeysAndWatchersSeeIt() throws Exception {
        Lease lease = store.grantLease(Duration.ofSeconds(30));
        store.put(p + "live/host1", b("up"), lease.id());
        store.put(p + "live/host2", b("up"));
        assertThat(store.get(p + "live/host1").orElseThrow().lease()).isEqualTo(lease.id());
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        try (Watch ignored = store.watch(p + "live/", 0, batch -> events.addAll(batch))) {
            store.revokeLease(lease.id());
            Event deleted = events.poll(10, TimeUnit.SECONDS);
            assertThat(deleted).isNotNull();
            assertThat(deleted.type()).isEqualTo(Event.Type.DELETE);
            assertThat(deleted.key()).isEqualTo(p + "live/host1");
        }
        assertThat(store.get(p + "live/host1")).isEmpty();
        assertThat(store.get(p + "live/host2")).isPresent();
        assertThatThrownBy(() -> store.keepAlive(lease.id())).isInstanceOf(LeaseNotFoundException.class);
        assertThatThrownBy(() -> store.put(p + "late", b("x"), lease.id())).isInstanceOf(LeaseNotFoundException.class);
        assertThat(store.get(p + "late")).isEmpty();
    }

    @Test
    void aLeaseNotKeptAliveExpiresAndTakesItsKeysWithIt() throws Exception {
        Lease kept = store.grantLease(Duration.ofSeconds(2));
        Lease dropped = store.grantLease(Duration.ofSeconds(2));
        store.put(p + "kept", b("1"), kept.id());
        store.put(p + "dropped", b("1"), dropped.id());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.get(p + "dropped").isPresent() && System.nanoTime() < deadline) {
            store.keepAlive(kept.id());
            Thread.sleep(250);
        }
        assertThat(store.get(p + "dropped")).as("key of the expired lease").isEmpty();
        assertThat(store.get(p + "kept")).as("key of the lease kept alive").isPresent();
        store.revokeLease(kept.id());
    }

    @Test
    void badInputIsRefusedWithAReasonAndChangesNothing() {
        long revision = store.revision();
        assertThatThrownBy(() -> store.put("", b("x"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("non-empty");
        assertThatThrownBy(() -> store.commit(Txn.begin().then(Op.put(p + "twice", b("1")), Op.put(p + "twice", b("2")))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than once");
        assertThatThrownBy(() -> store.put(p + "k", b("v"), 0x7fff_0000_1234L)).isInstanceOf(LeaseNotFoundException.class);
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(p + "twice")).isEmpty();
    }
}
