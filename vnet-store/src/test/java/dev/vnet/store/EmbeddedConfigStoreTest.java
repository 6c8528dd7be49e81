package dev.vnet.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedConfigStoreTest extends ConfigStoreContract {
    @TempDir
    Path temp;

    @Override
    protected ConfigStore open() {
        return EmbeddedConfigStore.open(temp.resolve("store"));
    }

    private void reopen() {
        store.close();
        store = open();
    }

    @Test
    void aReopenedStoreHasTheSameEntriesRevisionsAndVersions() {
        store.put(p + "a", b("1"));
        store.put(p + "a", b("2"));
        store.put(p + "b", b("x"));
        store.delete(p + "b");
        List<KeyValue> before = store.range(p).entries();
        long revision = store.revision();
        reopen();
        assertThat(store.range(p).entries()).isEqualTo(before);
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.put(p + "c", b("3"))).isEqualTo(revision + 1);
    }

    @Test
    void nonAsciiKeysAndEmptyValuesSurviveARestart() {
        store.put(p + "ünïcødé/🦆", b("v"));
        store.put(p + "empty", new byte[0]);
        reopen();
        assertThat(store.range(p).entries()).extracting(KeyValue::key).containsExactly(p + "empty", p + "ünïcødé/🦆");
        assertThat(store.get(p + "empty").orElseThrow().value()).isEmpty();
    }

    @Test
    void leasesAndTheirKeysSurviveARestartWithAFreshTimeToLive() {
        Lease lease = store.grantLease(Duration.ofSeconds(30));
        store.put(p + "live", b("1"), lease.id());
        reopen();
        assertThat(store.get(p + "live").orElseThrow().lease()).isEqualTo(lease.id());
        store.keepAlive(lease.id());
        store.revokeLease(lease.id());
        assertThat(store.get(p + "live")).isEmpty();
        reopen();
        assertThat(store.get(p + "live")).isEmpty();
        Lease next = store.grantLease(Duration.ofSeconds(30));
        assertThat(next.id()).as("lease ids are not reused").isGreaterThan(lease.id());
    }

    @Test
    void aWatchResumesAcrossARestartFromTheLog() throws Exception {
        long first = store.put(p + "1", b("1"));
        store.put(p + "2", b("2"));
        reopen();
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        try (Watch ignored = store.watch(p, first, batch -> events.addAll(batch))) {
            assertThat(events.poll(10, TimeUnit.SECONDS).revision()).isEqualTo(first);
            assertThat(events.poll(10, TimeUnit.SECONDS).revision()).isEqualTo(first + 1);
        }
    }

    @Test
    void aTornLastRecordIsDiscardedAndTheStoreGoesOn() throws IOException {
        store.put(p + "kept", b("1"));
        store.close();
        Files.write(temp.resolve("store").resolve(RecordLog.LOG_FILE_NAME), new byte[] {0, 0, 0, 40, 1, 2, 3},
                StandardOpenOption.APPEND);
        store = open();
        assertThat(store.get(p + "kept")).isPresent();
        store.put(p + "after", b("2"));
        reopen();
        assertThat(store.range(p).entries()).extracting(KeyValue::key).containsExactly(p + "after", p + "kept");
    }

    @Test
    void compactionKeepsStateAndLeasesAndForgetsOlderHistory() throws Exception {
        store.close();
        store = EmbeddedConfigStore.open(temp.resolve("store"));
        Lease lease = store.grantLease(Duration.ofSeconds(60));
        store.put(p + "leased", b("x"), lease.id());
        byte[] big = new byte[256 << 10];
        for (int i = 0; i < 40; i++) {
            store.put(p + "big", big); // 10 MiB of log for 256 KiB of state: compacts
        }
        long logBytes = Files.size(temp.resolve("store").resolve(RecordLog.LOG_FILE_NAME));
        assertThat(logBytes).isLessThan(EmbeddedConfigStore.COMPACTION_MIN_LOG_BYTES * 2);
        long revision = store.revision();
        KeyValue bigEntry = store.get(p + "big").orElseThrow();
        reopen();
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(p + "big")).contains(bigEntry);
        assertThat(store.get(p + "leased").orElseThrow().lease()).isEqualTo(lease.id());
        store.revokeLease(lease.id());
        assertThat(store.get(p + "leased")).isEmpty();
    }
}
