package dev.vnet.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static dev.vnet.store.EmbeddedConfigStore.COMPACTION_MIN_LOG_BYTES;
import static dev.vnet.store.RecordLog.DISCARDED_FILE_PREFIX;
import static dev.vnet.store.RecordLog.FORMAT_VERSION;
import static dev.vnet.store.RecordLog.HEADER_BYTES;
import static dev.vnet.store.RecordLog.LOCK_FILE_NAME;
import static dev.vnet.store.RecordLog.LOG_FILE_NAME;
import static dev.vnet.store.RecordLog.NEW_LOG_FILE_NAME;
import static dev.vnet.store.RecordLog.RECORD_PREFIX_BYTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The embedded engine's files: what a damaged, torn, foreign or unreachable log does on open, compaction,
 * the directory lock within this JVM, interrupts, and a closed store. (Kill -9 and the lock across
 * processes: {@link EmbeddedConfigStoreProcessTest}; the semantics every engine shares:
 * {@link ConfigStoreContract}.)
 */
class EmbeddedConfigStoreRecoveryTest {
    @TempDir
    Path temp;

    private Path directory;
    private ConfigStore store;

    @BeforeEach
    void openStore() {
        directory = temp.resolve("store");
        store = EmbeddedConfigStore.open(directory);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    private void reopen() {
        store.close();
        store = EmbeddedConfigStore.open(directory);
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

    private void deleteDiscardedFiles() throws IOException {
        for (Path file : discardedFiles()) {
            Files.delete(file);
        }
    }

    private List<String> keys(String prefix) {
        return store.range(prefix).entries().stream().map(KeyValue::key).toList();
    }

    private String valueOf(String key) {
        return store.get(key).orElseThrow(() -> new AssertionError(key + " is missing")).valueAsString();
    }

    private static byte[] b(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }

    private static byte[] framed(byte[] body) {
        ByteBuffer record = RecordLog.frame(body);
        byte[] bytes = new byte[record.remaining()];
        record.get(bytes);
        return bytes;
    }

    // ---- the log file ----

    @Test
    void aNewStoreIsAnEmptyLogWithJustTheHeader() throws IOException {
        assertThat(logBytes()).isEqualTo(HEADER_BYTES);
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(logFile()));
        assertThat(Arrays.copyOf(header.array(), 4)).isEqualTo(b("VNCS"));
        assertThat(header.getInt(4)).isEqualTo(FORMAT_VERSION);
        assertThat(directory.resolve(LOCK_FILE_NAME)).exists();
        assertThat(directory.resolve(NEW_LOG_FILE_NAME)).doesNotExist();
        assertThat(store.revision()).isZero();
    }

    @Test
    void aTornTailOfRandomBytesIsCutOffKeptInADiscardedFileAndWritesContinue() throws IOException {
        store.put("a", b("1"));
        store.put("b", b("2"));
        long revision = store.revision();
        store.close();
        long intactBytes = logBytes();
        byte[] garbage = new byte[37];
        new Random(7).nextBytes(garbage);
        Files.write(logFile(), garbage, StandardOpenOption.APPEND);

        store = EmbeddedConfigStore.open(directory);

        assertThat(keys("")).containsExactly("a", "b");
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(logBytes()).isEqualTo(intactBytes);
        assertThat(discardedFiles()).singleElement()
                .satisfies(kept -> assertThat(Files.readAllBytes(kept)).isEqualTo(garbage));
        assertThat(store.put("c", b("3"))).isEqualTo(revision + 1);
        reopen();
        assertThat(keys("")).containsExactly("a", "b", "c");
    }

    @Test
    void aZeroFilledTailDoesNotParseAsARecord() throws IOException {
        // What a file system can leave after a crash: the size grew, the data never arrived.
        store.put("a", b("1"));
        store.close();
        long intactBytes = logBytes();
        Files.write(logFile(), new byte[4096], StandardOpenOption.APPEND);

        store = EmbeddedConfigStore.open(directory);

        assertThat(keys("")).containsExactly("a");
        assertThat(logBytes()).isEqualTo(intactBytes);
        assertThat(discardedFiles()).singleElement().satisfies(kept -> assertThat(Files.size(kept)).isEqualTo(4096));
    }

    @Test
    void aRecordCutAtAnyByteIsDiscardedAndWritesContinue() throws IOException {
        store.put("first", b("kept"));
        long revision = store.revision();
        long lastRecordStart = logBytes();
        store.put("second", b("cut short"));
        store.close();
        byte[] wholeLog = Files.readAllBytes(logFile());

        for (int cut = (int) lastRecordStart + 1; cut < wholeLog.length; cut++) {
            Files.write(logFile(), Arrays.copyOf(wholeLog, cut));

            store = EmbeddedConfigStore.open(directory);

            assertThat(keys("")).as("cut at %d", cut).containsExactly("first");
            assertThat(store.revision()).as("cut at %d", cut).isEqualTo(revision);
            assertThat(logBytes()).as("cut at %d", cut).isEqualTo(lastRecordStart);
            byte[] cutOff = Arrays.copyOfRange(wholeLog, (int) lastRecordStart, cut);
            assertThat(discardedFiles()).as("cut at %d", cut).singleElement()
                    .satisfies(kept -> assertThat(Files.readAllBytes(kept)).isEqualTo(cutOff));
            assertThat(store.put("third", b("after the cut"))).isEqualTo(revision + 1);
            reopen();
            assertThat(keys("")).as("cut at %d", cut).containsExactly("first", "third");
            store.close();
            deleteDiscardedFiles();
        }
        store = EmbeddedConfigStore.open(directory);
    }

    /**
     * Documented behaviour: replay stops at the first record that fails its CRC, wherever it is. The
     * records after it were acknowledged, but the log cannot be trusted past that point, so they are
     * dropped from the store; their bytes are kept in a store.log.discarded-at-* file.
     */
    @Test
    void aCorruptedRecordInTheMiddleStopsReplayThere() throws IOException {
        store.put("before", b("1"));
        long revision = store.revision();
        long corruptRecordStart = logBytes();
        store.put("corrupt", b("2"));
        store.put("after", b("3"));
        store.close();
        byte[] damaged = Files.readAllBytes(logFile());
        damaged[(int) corruptRecordStart + 4] ^= 0x01; // a bit of the CRC field
        Files.write(logFile(), damaged);

        store = EmbeddedConfigStore.open(directory);

        assertThat(keys("")).containsExactly("before");
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(logBytes()).isEqualTo(corruptRecordStart);
        assertThat(discardedFiles()).singleElement().satisfies(kept -> assertThat(Files.readAllBytes(kept))
                .isEqualTo(Arrays.copyOfRange(damaged, (int) corruptRecordStart, damaged.length)));
        store.put("later", b("4"));
        reopen();
        assertThat(keys("")).containsExactly("before", "later");
    }

    /**
     * A record whose frame and CRC are whole but whose body the store cannot use (a kind it does not
     * know, 0 included, or bytes left over after the fields) stops replay like a torn one, and none of
     * it reaches the store: what the store shows must be what the log keeps.
     */
    @Test
    void aWholeRecordThatDoesNotDecodeStopsReplayAndIsNotApplied() throws IOException {
        store.put("before", b("1"));
        long revision = store.revision();
        long recordStart = logBytes();
        store.put("undecodable", b("2"));
        store.close();
        byte[] wholeLog = Files.readAllBytes(logFile());
        byte[] intact = Arrays.copyOf(wholeLog, (int) recordStart);
        byte[] body = Arrays.copyOfRange(wholeLog, (int) recordStart + RECORD_PREFIX_BYTES, wholeLog.length);
        assertThat(body[0]).as("a commit record").isEqualTo((byte) 1);
        byte[] kindZero = body.clone();
        kindZero[0] = 0;
        byte[] unknownKind = body.clone();
        unknownKind[0] = 9;
        byte[] leftOver = concat(body, new byte[] {0});
        byte[] cutInside = Arrays.copyOf(body, body.length - 3);

        for (byte[] variant : List.of(kindZero, unknownKind, leftOver, cutInside)) {
            byte[] record = framed(variant);
            Files.write(logFile(), concat(intact, record));

            store = EmbeddedConfigStore.open(directory);

            String variantName = "body of " + variant.length + " bytes, kind " + variant[0];
            assertThat(keys("")).as(variantName).containsExactly("before");
            assertThat(store.revision()).as(variantName).isEqualTo(revision);
            assertThat(logBytes()).as(variantName).isEqualTo(recordStart);
            assertThat(discardedFiles()).as(variantName).singleElement()
                    .satisfies(kept -> assertThat(Files.readAllBytes(kept)).isEqualTo(record));
            assertThat(store.put("later", b("3"))).as(variantName).isEqualTo(revision + 1);
            reopen();
            assertThat(keys("")).as(variantName).containsExactly("before", "later");
            assertThat(store.get("later").orElseThrow().modRevision()).as(variantName).isEqualTo(revision + 1);
            store.close();
            deleteDiscardedFiles();
        }
        store = EmbeddedConfigStore.open(directory);
    }

    // ---- compaction ----

    @Test
    void compactionShrinksTheLogAgainAndAgainKeepsTheDataAndForgetsTheHistoryBeforeIt() throws Exception {
        for (int i = 0; i < 10; i++) {
            store.put("small/" + i, b("value " + i));
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
        long revision = store.revision();
        List<KeyValue> before = store.range("").entries();

        reopen();

        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.range("").entries()).containsExactlyElementsOf(before);
        KeyValue large = store.get("large").orElseThrow();
        assertThat(large.value()).containsOnly(overwrites - 1);
        assertThat(large.version()).isEqualTo(overwrites);
        assertThat(keys("small/")).hasSize(9).doesNotContain("small/3");
        assertThat(valueOf("small/9")).isEqualTo("value 9");
        assertThat(discardedFiles()).isEmpty();

        CompletableFuture<RuntimeException> failure = new CompletableFuture<>();
        try (Watch ignored = store.watch("", 1, new WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                failure.completeExceptionally(new AssertionError("events from before the compaction: " + events));
            }

            @Override
            public void onError(RuntimeException error) {
                failure.complete(error);
            }
        })) {
            assertThat(failure.get(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(CompactedException.class,
                    compacted -> assertThat(compacted.compactRevision()).isBetween(2L, revision));
        }
    }

    @Test
    void aLeftoverNewLogOfAnInterruptedRewriteIsIgnoredAndRemoved() throws IOException {
        store.put("a", b("1"));
        store.close();
        Files.write(directory.resolve(NEW_LOG_FILE_NAME), concat(b("VNCS"), b("half a rewritten log")));

        store = EmbeddedConfigStore.open(directory);

        assertThat(keys("")).containsExactly("a");
        assertThat(directory.resolve(NEW_LOG_FILE_NAME)).doesNotExist();
        store.put("b", b("2"));
        reopen();
        assertThat(keys("")).containsExactly("a", "b");
    }

    // ---- opening ----

    @Test
    void aSecondOpenOfTheSameDirectoryIsRefusedAndTheFirstStoreGoesOn() throws IOException {
        store.put("a", b("1"));
        Path sameDirectoryOtherName = Files.createSymbolicLink(temp.resolve("link"), directory);
        String message = "store directory " + directory.toRealPath() + " is in use by another process";

        assertThatThrownBy(() -> EmbeddedConfigStore.open(directory))
                .isInstanceOf(IllegalStateException.class).hasMessage(message);
        assertThatThrownBy(() -> EmbeddedConfigStore.open(sameDirectoryOtherName))
                .isInstanceOf(IllegalStateException.class).hasMessage(message);

        store.put("b", b("2"));
        reopen();
        assertThat(keys("")).containsExactly("a", "b");
    }

    @Test
    void aLogWithAForeignHeaderIsRefusedAndLeftUntouched() throws IOException {
        store.close();
        byte[] notes = b("# somebody's notes, not a store log\nimportant: yes\n");
        // The log of the registry's own store before it moved onto this one: magic "VNKV", then records.
        byte[] oldRegistryLog = concat(ByteBuffer.allocate(HEADER_BYTES).put(b("VNKV")).putInt(1).array(), b("records"));

        for (byte[] foreign : List.of(notes, oldRegistryLog)) {
            Files.write(logFile(), foreign);
            assertThatThrownBy(() -> EmbeddedConfigStore.open(directory))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("refusing to open " + logFile().toRealPath())
                    .hasMessageContaining("not the store log magic")
                    .hasMessageContaining("left untouched");
            assertThat(Files.readAllBytes(logFile())).isEqualTo(foreign);
        }

        Files.write(logFile(), b("VNC"));
        assertThatThrownBy(() -> EmbeddedConfigStore.open(directory))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("shorter than a store log header");
        assertThat(Files.readAllBytes(logFile())).isEqualTo(b("VNC"));
        assertThat(discardedFiles()).isEmpty();

        // A refused open lets go of the directory: once the file is moved away, the store opens.
        Files.move(logFile(), temp.resolve("moved-away"));
        store = EmbeddedConfigStore.open(directory);
        assertThat(store.revision()).isZero();
    }

    @Test
    void aLogOfAnotherFormatVersionIsRefused() throws IOException {
        store.close();
        byte[] future = ByteBuffer.allocate(HEADER_BYTES + 3).put(b("VNCS")).putInt(FORMAT_VERSION + 1).put(b("???")).array();
        Files.write(logFile(), future);

        assertThatThrownBy(() -> EmbeddedConfigStore.open(directory))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("store log format " + (FORMAT_VERSION + 1) + "; this build reads format " + FORMAT_VERSION)
                .hasMessageContaining("left untouched");
        assertThat(Files.readAllBytes(logFile())).isEqualTo(future);

        store = EmbeddedConfigStore.open(temp.resolve("elsewhere")); // for closeStore
    }

    @Test
    void aDirectoryThatCannotBeCreatedIsReported() throws IOException {
        Path file = Files.writeString(temp.resolve("a-file"), "in the way");

        assertThatThrownBy(() -> EmbeddedConfigStore.open(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot create store directory " + file + ": " + file + " exists and is not a directory");
        assertThatThrownBy(() -> EmbeddedConfigStore.open(file.resolve("store")))
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

            assertThatThrownBy(() -> EmbeddedConfigStore.open(readOnly))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("cannot write in store directory " + readOnly.toRealPath() + ": permission denied");
        } finally {
            Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void aLogThatCannotBeWrittenIsReported() throws IOException {
        store.put("a", b("1"));
        store.close();
        Files.setPosixFilePermissions(logFile(), PosixFilePermissions.fromString("r--r--r--"));
        try {
            assumeThat(Files.isWritable(logFile())).as("permissions bind (not running as root)").isFalse();

            assertThatThrownBy(() -> EmbeddedConfigStore.open(directory))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("cannot open the store in " + directory.toRealPath() + ": permission denied");
        } finally {
            Files.setPosixFilePermissions(logFile(), PosixFilePermissions.fromString("rw-r--r--"));
        }
        store = EmbeddedConfigStore.open(directory);
        assertThat(keys("")).containsExactly("a");
    }

    // ---- writing ----

    @Test
    void keysThatAreNotValidUnicodeAreRejectedAndNothingIsWritten() {
        // UTF-8 cannot carry an unpaired surrogate; the key read back after a restart would differ.
        store.put("vm/ok", b("1"));
        long revision = store.revision();

        assertThatThrownBy(() -> store.put("vm/\uD800", b("v")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unpaired surrogate");
        assertThatThrownBy(() -> store.commit(Txn.begin().then(Op.put("vm/fine", b("v")), Op.put("vm/\uDC00x", b("v")))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unpaired surrogate");

        assertThat(store.revision()).isEqualTo(revision);
        assertThat(keys("")).containsExactly("vm/ok");
        reopen();
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(keys("")).containsExactly("vm/ok");
    }

    @Test
    void writesFromAnInterruptedThreadAreStoredAndTheInterruptKept() {
        // FileChannel closes itself when an interrupted thread does I/O on it, which would break the
        // store for every other thread.
        Thread.currentThread().interrupt();
        try {
            store.put("a", b("1"));
            assertThat(store.delete("a")).isTrue();
            store.put("b", b("2"));
            Lease lease = store.grantLease(Duration.ofSeconds(60));
            store.put("leased", b("3"), lease.id());
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        store.put("c", b("3"));
        long revision = store.revision();
        reopen();
        assertThat(keys("")).containsExactly("b", "c", "leased");
        assertThat(store.revision()).isEqualTo(revision);
    }

    @Test
    void interruptsLandingInsideWritesFailThoseWritesCleanlyAndNoOtherThreadsWrites() throws Exception {
        // An interrupt arriving during FileChannel I/O closes the channel: that write fails, its partial
        // record is cut off again, the store shows nothing of it, and writes from other threads go on.
        Set<String> stored = ConcurrentHashMap.newKeySet();
        Set<String> failed = ConcurrentHashMap.newKeySet();
        List<Throwable> unexpected = new CopyOnWriteArrayList<>();
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 400; i++) {
                try {
                    store.put("k" + i, b("value " + i));
                    stored.add("k" + i);
                } catch (UncheckedIOException e) {
                    failed.add("k" + i);
                } catch (RuntimeException e) {
                    unexpected.add(e);
                }
            }
        });
        Thread bystander = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 200; i++) {
                try {
                    store.put("other/" + i, b("value " + i));
                } catch (RuntimeException e) {
                    unexpected.add(e);
                }
            }
        });
        Thread interrupter = Thread.ofPlatform().start(() -> {
            while (writer.isAlive()) {
                writer.interrupt();
                LockSupport.parkNanos(200_000);
            }
        });
        writer.join(30_000);
        bystander.join(30_000);
        interrupter.join(1_000);

        assertThat(writer.isAlive()).isFalse();
        assertThat(unexpected).isEmpty();
        assertThat(stored).isNotEmpty();
        assertThat(stored.size() + failed.size()).isEqualTo(400);
        assertThat(keys("k")).containsExactlyInAnyOrderElementsOf(stored);
        assertThat(keys("other/")).hasSize(200);
        store.put("after", b("the storm"));
        long revision = store.revision();
        assertThat(revision).isEqualTo(stored.size() + 200 + 1);

        reopen();

        assertThat(keys("k")).containsExactlyInAnyOrderElementsOf(stored);
        assertThat(keys("other/")).hasSize(200);
        assertThat(valueOf("after")).isEqualTo("the storm");
        assertThat(store.revision()).isEqualTo(revision);
    }

    @Test
    void aClosedStoreRefusesEverything() {
        Lease lease = store.grantLease(Duration.ofSeconds(60));
        store.put("a", b("1"));
        store.close();
        store.close(); // again: nothing happens

        assertThatThrownBy(() -> store.get("a")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> store.revision()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.range("")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.put("a", b("2"))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.delete("a")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.commit(Txn.begin().then(Op.get("a")))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.watch("", 0, events -> { })).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.grantLease(Duration.ofSeconds(60))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.keepAlive(lease.id())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.revokeLease(lease.id())).isInstanceOf(IllegalStateException.class);

        store = EmbeddedConfigStore.open(directory);
        assertThat(valueOf("a")).isEqualTo("1");
    }
}
