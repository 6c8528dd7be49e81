package dev.vnet.registry.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link KeyValueStore} engine promises. An engine's test extends this and says how to
 * make a fresh, empty store; durability across restarts and crashes is engine-specific and tested there.
 */
abstract class KeyValueStoreContract {
    protected KeyValueStore store;

    /** A new, empty store; closed after each test. */
    protected abstract KeyValueStore newStore();

    @BeforeEach
    void openStore() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    void getOfAnAbsentKeyIsEmpty() {
        assertThat(store.get("nothing/here")).isEmpty();
    }

    @Test
    void putThenGetReturnsTheValue() {
        store.put("vm/1", bytes("10.0.0.1"));

        assertThat(store.get("vm/1")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("10.0.0.1")));
    }

    @Test
    void putOverwritesThePreviousValue() {
        store.put("vm/1", bytes("10.0.0.1"));
        store.put("vm/1", bytes("10.0.0.2"));

        assertThat(store.get("vm/1")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("10.0.0.2")));
        assertThat(store.scan("")).hasSize(1);
    }

    @Test
    void emptyValuesAndNonAsciiKeysRoundTrip() {
        store.put("empty", new byte[0]);
        store.put("vm/ünïcødé/🦆", new byte[] {0, -1, 127, -128});

        assertThat(store.get("empty")).hasValueSatisfying(v -> assertThat(v).isEmpty());
        assertThat(store.get("vm/ünïcødé/🦆"))
                .hasValueSatisfying(v -> assertThat(v).containsExactly(0, -1, 127, -128));
    }

    @Test
    void deleteRemovesTheKeyAndSaysWhetherItExisted() {
        store.put("vm/1", bytes("a"));
        store.put("vm/2", bytes("b"));

        assertThat(store.delete("vm/1")).isTrue();
        assertThat(store.delete("vm/1")).isFalse();
        assertThat(store.delete("never/there")).isFalse();

        assertThat(store.get("vm/1")).isEmpty();
        assertThat(store.get("vm/2")).isPresent();
    }

    @Test
    void scanReturnsOnlyKeysWithThePrefixInKeyOrder() {
        store.put("vm/b", bytes("2"));
        store.put("key/x", bytes("k"));
        store.put("vm/a", bytes("1"));
        store.put("vm/c", bytes("3"));
        store.put("vn", bytes("not under vm/"));
        store.put("vm", bytes("the prefix itself, without the slash"));

        var scanned = store.scan("vm/");

        assertThat(scanned.keySet()).containsExactly("vm/a", "vm/b", "vm/c");
        assertThat(text(scanned.get("vm/b"))).isEqualTo("2");
        assertThat(store.scan("nothing/")).isEmpty();
    }

    @Test
    void scanWithTheEmptyPrefixReturnsEverythingInKeyOrder() {
        store.put("b", bytes("2"));
        store.put("a", bytes("1"));
        store.put("c", bytes("3"));
        store.delete("c");

        assertThat(store.scan("").keySet()).containsExactly("a", "b");
    }

    @Test
    void valuesAreCopiedInAndOut() {
        byte[] written = bytes("original");
        store.put("k", written);
        written[0] = 'X';

        byte[] read = store.get("k").orElseThrow();
        read[0] = 'Y';
        store.scan("").get("k")[0] = 'Z';

        assertThat(text(store.get("k").orElseThrow())).isEqualTo("original");
    }

    @Test
    void invalidKeysAndValuesAreRejected() {
        for (String key : new String[] {null, ""}) {
            assertThatThrownBy(() -> store.get(key)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.put(key, bytes("v"))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.delete(key)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> store.put("k", null)).isInstanceOf(IllegalArgumentException.class);

        assertThat(store.scan("")).isEmpty();
    }

    @Test
    void concurrentPutsFromSeveralThreadsAreAllPresent() throws Exception {
        int threads = 4;
        int putsPerThread = 50;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> writers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                writers.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < putsPerThread; i++) {
                        store.put("t" + thread + "/" + i, bytes(thread + ":" + i));
                        store.put("shared", bytes(thread + ":" + i));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> writer : writers) {
                writer.get(20, TimeUnit.SECONDS);
            }
        }

        for (int t = 0; t < threads; t++) {
            var written = store.scan("t" + t + "/");
            assertThat(written).hasSize(putsPerThread);
            for (int i = 0; i < putsPerThread; i++) {
                assertThat(text(written.get("t" + t + "/" + i))).isEqualTo(t + ":" + i);
            }
        }
        assertThat(text(store.get("shared").orElseThrow())).endsWith(":" + (putsPerThread - 1));
    }
}
