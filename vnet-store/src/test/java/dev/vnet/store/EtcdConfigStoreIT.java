package dev.vnet.store;

import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract on a real 3-member etcd cluster (shared by the class; each test has its own key
 * prefix), and what only a cluster shows: a member crash, compaction, namespaces, an unreachable
 * cluster.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EtcdConfigStoreIT extends ConfigStoreContract {
    private static EtcdCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = EtcdCluster.start(3);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected ConfigStore open() {
        return EtcdConfigStore.connect(cluster.clientUrls());
    }

    /**
     * Writers put keys of their own without pause while the leader is SIGKILLed. A write in flight then
     * may fail (the connection to the dead member breaks, or a follower forwarded it to the dead leader
     * before noticing and etcd answers "request timed out" after its request timeout, 7 s by default);
     * the writer goes on with its next key, as a client would. Afterwards every acknowledged write is in
     * the store at the revision it was acknowledged with, and a watch that ran through the crash saw each
     * of them once, in revision order.
     */
    @Test
    void writesGoOnWhenTheLeaderIsKilledAndNoAcknowledgedWriteIsLost() throws Exception {
        int writers = 4;
        try (EtcdCluster own = EtcdCluster.start(3);
             EtcdConfigStore store = EtcdConfigStore.connect(own.clientUrls())) {
            Map<String, Long> acknowledged = new ConcurrentHashMap<>(); // key -> revision of its put
            List<Event> watched = new CopyOnWriteArrayList<>();
            AtomicLong killedAtNanos = new AtomicLong();
            AtomicLong firstAckAfterKillNanos = new AtomicLong();
            AtomicLong acksAfterKill = new AtomicLong();
            List<String> failures = new CopyOnWriteArrayList<>();
            try (Watch _ = store.watch(p, store.revision() + 1, watched::addAll)) {
                List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    String prefix = p + "w" + w + "/";
                    threads.add(Thread.ofPlatform().name("writer " + w).start(() -> {
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                        for (int i = 0; acksAfterKill.get() < 100 && System.nanoTime() < deadline; i++) {
                            String key = prefix + String.format("%05d", i);
                            long callStart = System.nanoTime();
                            try {
                                acknowledged.put(key, store.put(key, b(Integer.toString(i))));
                                if (killedAtNanos.get() != 0 && callStart > killedAtNanos.get()) {
                                    firstAckAfterKillNanos.compareAndSet(0, System.nanoTime());
                                    acksAfterKill.incrementAndGet();
                                }
                            } catch (RuntimeException e) { // not acknowledged: may or may not be there
                                failures.add(String.format("%s (%.2f s after the kill, failed after %.2f s): %s", key,
                                        (callStart - killedAtNanos.get()) / 1e9, (System.nanoTime() - callStart) / 1e9,
                                        e.getMessage()));
                                sleep(100);
                            }
                        }
                    }));
                }
                long before = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (acknowledged.size() < 100 && System.nanoTime() < before) {
                    Thread.sleep(10);
                }
                assertThat(acknowledged).as("writes before the kill").hasSizeGreaterThanOrEqualTo(100);
                EtcdCluster.Member leader = own.leader();
                int acknowledgedBeforeKill = acknowledged.size();
                own.kill(leader);
                killedAtNanos.set(System.nanoTime());
                EtcdCluster.Member newLeader = own.leader();
                double electedSeconds = (System.nanoTime() - killedAtNanos.get()) / 1e9;
                assertThat(newLeader).as("new leader").isNotEqualTo(leader);
                long probeStart = System.nanoTime();
                long probeRevision = store.put(p + "probe", b("after the election"));
                double probeSeconds = (System.nanoTime() - probeStart) / 1e9;
                acknowledged.put(p + "probe", probeRevision);
                for (Thread thread : threads) {
                    thread.join(TimeUnit.SECONDS.toMillis(90));
                    assertThat(thread.isAlive()).isFalse();
                }

                assertThat(acksAfterKill.get()).as("writes started and acknowledged after killing %s (failures: %s)",
                        leader, failures).isGreaterThanOrEqualTo(100);
                double recoverySeconds = (firstAckAfterKillNanos.get() - killedAtNanos.get()) / 1e9;
                assertThat(recoverySeconds).as("seconds from the kill to the first write acknowledged after it")
                        .isLessThan(15);

                // Every acknowledged write is there, with the revision it was acknowledged at.
                Map<String, Long> stored = new java.util.HashMap<>();
                for (KeyValue entry : store.range(p).entries()) {
                    stored.put(entry.key(), entry.modRevision());
                }
                assertThat(stored).containsAllEntriesOf(acknowledged);
                // The watch went on through the crash: it saw every acknowledged write, in order, once.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!watchedAll(watched, acknowledged.keySet()) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                List<String> watchedKeys = watched.stream().map(Event::key).toList();
                assertThat(watchedKeys).containsAll(acknowledged.keySet()).doesNotHaveDuplicates();
                assertThat(watched.stream().map(Event::revision).toList()).isSorted();
                System.out.printf("leader %s killed after %d acknowledged writes; %s leader %.2f s later; a write sent "
                                + "then took %.2f s; the writers' first write acknowledged after the kill %.2f s after it; "
                                + "%d acknowledged in all; %d failed: %s%n",
                        leader, acknowledgedBeforeKill, newLeader, electedSeconds, probeSeconds, recoverySeconds,
                        acknowledged.size(), failures.size(), String.join("; ", failures));
            }
        }
    }

    private static boolean watchedAll(List<Event> watched, Set<String> keys) {
        return watched.stream().map(Event::key).collect(java.util.stream.Collectors.toSet()).containsAll(keys);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aWatchFromACompactedRevisionFailsWithTheCompactRevision() throws Exception {
        long first = store.put(p + "c/1", b("1"));
        store.put(p + "c/2", b("2"));
        long third = store.put(p + "c/3", b("3"));
        try (Client client = Client.builder().endpoints(cluster.clientUrls().toArray(String[]::new)).build()) {
            client.getKVClient().compact(third).get(10, TimeUnit.SECONDS);
        }
        CompletableFuture<RuntimeException> failure = new CompletableFuture<>();
        try (Watch _ = store.watch(p + "c/", first, new WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                failure.completeExceptionally(new AssertionError("events from a compacted revision: " + events));
            }

            @Override
            public void onError(RuntimeException error) {
                failure.complete(error);
            }
        })) {
            RuntimeException error = failure.get(10, TimeUnit.SECONDS);
            assertThat(error).isInstanceOf(CompactedException.class);
            // etcd still has the changes from its compact revision on: "greater than" third - 1.
            assertThat(((CompactedException) error).compactRevision()).isEqualTo(third - 1);
        }
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        long compactRevision = third - 1;
        try (Watch _ = store.watch(p + "c/", compactRevision + 1, events::addAll)) {
            Event event = events.poll(10, TimeUnit.SECONDS);
            assertThat(event).isNotNull();
            assertThat(event.revision()).isEqualTo(third);
            assertThat(event.key()).isEqualTo(p + "c/3");
        }
    }

    @Test
    void aNamespaceHidesItsPrefixAndSeesOnlyItsOwnKeys() throws Exception {
        store.put(p + "outside", b("x"));
        try (EtcdConfigStore inside = EtcdConfigStore.connect(cluster.clientUrls(), p + "ns/", Duration.ofSeconds(10))) {
            BlockingQueue<Event> events = new LinkedBlockingQueue<>();
            try (Watch _ = inside.watch("", 0, events::addAll)) {
                long revision = inside.put("k", b("v"));
                assertThat(store.get(p + "ns/k").orElseThrow().modRevision()).isEqualTo(revision);
                assertThat(inside.range("").entries()).extracting(KeyValue::key).containsExactly("k");
                TxnResult result = inside.commit(Txn.begin().when(Compare.present("k")).then(Op.get("k"), Op.deletePrefix("k")));
                assertThat(result.succeeded()).isTrue();
                assertThat(result.results().get(0).entry().orElseThrow().key()).isEqualTo("k");
                assertThat(result.results().get(1).deleted()).isEqualTo(1);
                Event put = events.poll(10, TimeUnit.SECONDS);
                Event delete = events.poll(10, TimeUnit.SECONDS);
                assertThat(put).isNotNull();
                assertThat(put.key()).isEqualTo("k");
                assertThat(delete).isNotNull();
                assertThat(delete.type()).isEqualTo(Event.Type.DELETE);
                assertThat(delete.entry()).isEqualTo(new KeyValue("k", new byte[0], 0, result.revision(), 0, 0));
            }
        }
        assertThat(store.get(p + "outside")).isPresent();
    }

    @Test
    void leaseTimesToLiveAreWholeSecondsRoundedUpAndAtLeastEtcdsMinimum() {
        Lease lease = store.grantLease(Duration.ofMillis(4500));
        Lease shortest = store.grantLease(Duration.ofMillis(300));
        try {
            assertThat(lease.ttl()).isEqualTo(Duration.ofSeconds(5));
            assertThat(shortest.ttl()).as("etcd's minimum TTL with its default timing").isEqualTo(Duration.ofSeconds(2));
        } finally {
            store.revokeLease(lease.id());
            store.revokeLease(shortest.id());
        }
        store.revokeLease(lease.id()); // unknown now: nothing happens
    }

    @Test
    void anUnreachableClusterIsReportedWithItsEndpoints() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        assertThatThrownBy(() -> EtcdConfigStore.connect(List.of(endpoint), "", Duration.ofSeconds(2)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(endpoint);
        assertThatThrownBy(() -> EtcdConfigStore.connect(List.of("127.0.0.1:2379")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void overlappingDeletesAreAllowedLikeEtcdButAPutUnderADeletedPrefixIsNot() {
        store.put(p + "d/a", b("1"));
        TxnResult result = store.commit(Txn.begin().then(Op.delete(p + "d/a"), Op.deletePrefix(p + "d/")));
        assertThat(result.results()).extracting(TxnResult.OpResult::deleted).containsExactly(1L, 0L);
        assertThatThrownBy(() -> store.commit(Txn.begin().then(Op.deletePrefix(p + "d/"), Op.put(p + "d/b", b("2")))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than once");
        List<String> keys = new ArrayList<>();
        store.range(p).entries().forEach(entry -> keys.add(entry.key()));
        assertThat(keys).isEmpty();
    }
}
