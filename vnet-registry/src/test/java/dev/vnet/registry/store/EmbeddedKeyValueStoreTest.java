package dev.vnet.registry.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static dev.vnet.registry.store.EmbeddedKeyValueStore.COMPACTION_MIN_LOG_BYTES;
import static dev.vnet.registry.store.EmbeddedKeyValueStore.DISCARDED_FILE_PREFIX;
import static dev.vnet.registry.store.EmbeddedKeyValueStore.HEADER_BYTES;
import static dev.vnet.registry.store.EmbeddedKeyValueStore.LOG_FILE_NAME;
import static dev.vnet.registry.store.EmbeddedKeyValueStore.NEW_LOG_FILE_NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

class EmbeddedKeyValueStoreTest extends KeyValueStoreContract {
    @TempDir
    Path temp;

    private Path directory;

    @Override
    protected KeyValueStore newStore() {
        directory = temp.resolve("store");
        return EmbeddedKeyValueStore.open(directory);
    }

    private void reopen() {
        store.close();
        store = EmbeddedKeyValueStore.open(directory);
    }

    private Path logFile() {
        return directory.resolve(LOG_FILE_NAME);
    }

    private long logBytes() throws IOException {
        return Files.size(logFile());
    }

    private List<Path> discardedFiles() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().startsWith(DISCARDED_FILE_PREFIX)).toList();
        }
    }

    private String valueOf(String key) {
        return text(store.get(key).orElseThrow(() -> new AssertionError(key + " is missing")));
    }

    @Test
    void aNewStoreIsAnEmptyLogWithJustTheHeader() throws IOException {
        assertThat(logBytes()).isEqualTo(HEADER_BYTES);
        assertThat(Arrays.copyOf(Files.readAllBytes(logFile()), 4)).isEqualTo(bytes("VNKV"));
    }

    @Test
    void reopenSeesPutsOverwritesAndDeletes() {
        store.put("vm/a", bytes("1"));
        store.put("vm/b", bytes("2"));
        store.put("vm/c", bytes("3"));
        store.put("vm/b", bytes("2 again"));
        store.delete("vm/c");

        reopen();

        assertThat(store.scan("").keySet()).containsExactly("vm/a", "vm/b");
        assertThat(valueOf("vm/b")).isEqualTo("2 again");
    }

    @Test
    void tornTailOfRandomBytesIsDiscardedAndWritesContinue() throws IOException {
        store.put("a", bytes("1"));
        store.put("b", bytes("2"));
        store.close();
        long intactBytes = logBytes();
        byte[] garbage = new byte[37];
        new Random(7).nextBytes(garbage);
        Files.write(logFile(), garbage, StandardOpenOption.APPEND);

        store = EmbeddedKeyValueStore.open(directory);

        assertThat(store.scan("").keySet()).containsExactly("a", "b");
        assertThat(logBytes()).isEqualTo(intactBytes);
        assertThat(discardedFiles()).singleElement()
                .satisfies(kept -> assertThat(Files.readAllBytes(kept)).isEqualTo(garbage));
        store.put("c", bytes("3"));
        reopen();
        assertThat(store.scan("").keySet()).containsExactly("a", "b", "c");
    }

    @Test
    void aRecordCutAtAnyByteIsDiscardedAndWritesContinue() throws IOException {
        store.put("first", bytes("kept"));
        long lastRecordStart = logBytes();
        store.put("second", bytes("cut short"));
        store.close();
        byte[] wholeLog = Files.readAllBytes(logFile());

        for (int cut = (int) lastRecordStart + 1; cut < wholeLog.length; cut++) {
            Files.write(logFile(), Arrays.copyOf(wholeLog, cut));

            store = EmbeddedKeyValueStore.open(directory);

            assertThat(store.scan("").keySet()).as("cut at %d", cut).containsExactly("first");
            assertThat(logBytes()).isEqualTo(lastRecordStart);
            store.put("third", bytes("after the cut"));
            reopen();
            assertThat(store.scan("").keySet()).as("cut at %d", cut).containsExactly("first", "third");
            store.close();
        }
        store = EmbeddedKeyValueStore.open(directory);
    }

    /**
     * Documented behaviour: replay stops at the first record that fails its CRC, wherever it is. The
     * records after it were acknowledged, but the log cannot be trusted past that point, so they are
     * dropped from the store; their bytes are kept in a store.log.discarded-at-* file.
     */
    @Test
    void aCorruptedRecordInTheMiddleStopsReplayThere() throws IOException {
        store.put("before", bytes("1"));
        long corruptRecordStart = logBytes();
        store.put("corrupt", bytes("2"));
        store.put("after", bytes("3"));
        store.close();
        byte[] wholeLog = Files.readAllBytes(logFile());
        byte[] damaged = wholeLog.clone();
        damaged[(int) corruptRecordStart + 4] ^= 0x01; // a bit of the CRC field
        Files.write(logFile(), damaged);

        store = EmbeddedKeyValueStore.open(directory);

        assertThat(store.scan("").keySet()).containsExactly("before");
        assertThat(logBytes()).isEqualTo(corruptRecordStart);
        assertThat(discardedFiles()).singleElement().satisfies(kept -> assertThat(Files.readAllBytes(kept))
                .isEqualTo(Arrays.copyOfRange(damaged, (int) corruptRecordStart, damaged.length)));
        store.put("later", bytes("4"));
        reopen();
        assertThat(store.scan("").keySet()).containsExactly("before", "later");
    }

    @Test
    void compactionKeepsTheDataAndShrinksTheLog() throws IOException {
        for (int i = 0; i < 10; i++) {
            store.put("small/" + i, bytes("value " + i));
        }
        store.delete("small/3");
        int largeValueBytes = 128 << 10;
        int overwrites = 80; // 10 MiB written, well past the 4 MiB at which the log compacts
        long largestLog = 0;
        int shrinks = 0;
        for (int i = 0; i < overwrites; i++) {
            byte[] large = new byte[largeValueBytes];
            Arrays.fill(large, (byte) i);
            long before = logBytes();
            store.put("large", large);
            long after = logBytes();
            largestLog = Math.max(largestLog, after);
            shrinks += after < before ? 1 : 0;
        }

        assertThat(shrinks).isGreaterThanOrEqualTo(2);
        assertThat(largestLog).isLessThanOrEqualTo(COMPACTION_MIN_LOG_BYTES + 2L * largeValueBytes);
        assertThat(logBytes()).isLessThan((long) overwrites * largeValueBytes / 2);
        assertThat(directory.resolve(NEW_LOG_FILE_NAME)).doesNotExist();
        reopen();
        assertThat(store.get("large")).hasValueSatisfying(v -> assertThat(v).containsOnly(overwrites - 1));
        assertThat(store.scan("small/")).hasSize(9).doesNotContainKey("small/3");
        assertThat(valueOf("small/9")).isEqualTo("value 9");
    }

    @Test
    void aLeftoverLogOfAnInterruptedCompactionIsIgnored() throws IOException {
        store.put("a", bytes("1"));
        store.close();
        Files.write(directory.resolve(NEW_LOG_FILE_NAME), bytes("VNKV half a compacted log"));

        store = EmbeddedKeyValueStore.open(directory);

        assertThat(store.scan("").keySet()).containsExactly("a");
        assertThat(directory.resolve(NEW_LOG_FILE_NAME)).doesNotExist();
    }

    @Test
    void aSecondOpenOfTheSameDirectoryFails() throws IOException {
        store.put("a", bytes("1"));
        Path sameDirectoryOtherName = Files.createSymbolicLink(temp.resolve("link"), directory);
        String message = "store directory " + directory.toRealPath() + " is in use by another process";

        assertThatThrownBy(() -> EmbeddedKeyValueStore.open(directory))
                .isInstanceOf(IllegalStateException.class).hasMessage(message);
        assertThatThrownBy(() -> EmbeddedKeyValueStore.open(sameDirectoryOtherName))
                .isInstanceOf(IllegalStateException.class).hasMessage(message);

        store.put("b", bytes("2"));
        reopen();
        assertThat(store.scan("").keySet()).containsExactly("a", "b");
    }

    @Test
    void aLogWithAForeignHeaderIsRefusedAndLeftUntouched() throws IOException {
        store.close();
        byte[] foreign = bytes("# somebody's notes, not a store log\nimportant: yes\n");
        Files.write(logFile(), foreign);

        assertThatThrownBy(() -> EmbeddedKeyValueStore.open(directory))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("refusing to open " + logFile().toRealPath())
                .hasMessageContaining("not the store log magic")
                .hasMessageContaining("left untouched");
        assertThat(Files.readAllBytes(logFile())).isEqualTo(foreign);

        Files.write(logFile(), bytes("VNK"));
        assertThatThrownBy(() -> EmbeddedKeyValueStore.open(directory))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("shorter than a store log header");
        assertThat(Files.readAllBytes(logFile())).isEqualTo(bytes("VNK"));

        store = EmbeddedKeyValueStore.open(temp.resolve("elsewhere")); // for closeStore
    }

    @Test
    void aLogOfAnotherFormatVersionIsRefused() throws IOException {
        store.close();
        byte[] future = ByteBuffer.allocate(HEADER_BYTES + 3).put(bytes("VNKV")).putInt(2).put(bytes("???")).array();
        Files.write(logFile(), future);

        assertThatThrownBy(() -> EmbeddedKeyValueStore.open(directory))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("store log format 2; this build reads format 1");
        assertThat(Files.readAllBytes(logFile())).isEqualTo(future);

        store = EmbeddedKeyValueStore.open(temp.resolve("elsewhere"));
    }

    @Test
    void aDirectoryThatCannotBeCreatedIsReported() throws IOException {
        Path file = Files.writeString(temp.resolve("a-file"), "in the way");

        assertThatThrownBy(() -> EmbeddedKeyValueStore.open(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot create store directory " + file + ": " + file + " exists and is not a directory");
        assertThatThrownBy(() -> EmbeddedKeyValueStore.open(file.resolve("store")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("cannot create store directory " + file.resolve("store") + ": ")
                .hasMessageContaining("Not a directory");
    }

    @Test
    void aDirectoryThatCannotBeWrittenIsReported() throws IOException {
        Path readOnly = Files.createDirectory(temp.resolve("read-only"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeThat(Files.isWritable(readOnly)).as("permissions bind (not running as root)").isFalse();

            assertThatThrownBy(() -> EmbeddedKeyValueStore.open(readOnly))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("cannot write in store directory " + readOnly.toRealPath() + ": permission denied");
        } finally {
            Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void keysThatAreNotValidUnicodeAreRejected() {
        // UTF-8 cannot carry an unpaired surrogate; the key read back after a restart would differ.
        assertThatThrownBy(() -> store.put("vm/\uD800", bytes("v")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unpaired surrogate at index 3");
    }

    @Test
    void aPutFromAnInterruptedThreadIsStoredAndTheInterruptKept() {
        // FileChannel closes itself when an interrupted thread does I/O on it, which would break the
        // store for every other thread.
        Thread.currentThread().interrupt();
        try {
            store.put("a", bytes("1"));
            assertThat(store.delete("a")).isTrue();
            store.put("b", bytes("2"));
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        store.put("c", bytes("3"));
        reopen();
        assertThat(store.scan("").keySet()).containsExactly("b", "c");
    }

    @Test
    void interruptsLandingInsideWritesFailThoseWritesCleanly() throws Exception {
        // An interrupt arriving during FileChannel I/O closes the channel: that put fails, its partial
        // record is cut off again, and the store carries on with a consistent log.
        Set<String> stored = ConcurrentHashMap.newKeySet();
        Set<String> failed = ConcurrentHashMap.newKeySet();
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 400; i++) {
                try {
                    store.put("k" + i, bytes("value " + i));
                    stored.add("k" + i);
                } catch (UncheckedIOException e) {
                    failed.add("k" + i);
                }
            }
        });
        Thread interrupter = Thread.ofPlatform().start(() -> {
            while (writer.isAlive()) {
                writer.interrupt();
                LockSupport.parkNanos(200_000);
            }
        });
        writer.join(15_000);
        interrupter.join(1_000);

        assertThat(stored).isNotEmpty();
        store.put("after", bytes("the storm"));
        reopen();
        assertThat(store.scan("k").keySet()).containsExactlyInAnyOrderElementsOf(stored);
        assertThat(valueOf("after")).isEqualTo("the storm");
    }

    @Test
    void aClosedStoreRefusesEverything() {
        store.close();

        assertThatThrownBy(() -> store.get("a")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> store.put("a", bytes("1"))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.delete("a")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.scan("")).isInstanceOf(IllegalStateException.class);
    }
}
