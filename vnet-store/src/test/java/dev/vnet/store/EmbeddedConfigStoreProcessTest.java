package dev.vnet.store;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static dev.vnet.store.StoreChildProcess.ballast;
import static dev.vnet.store.StoreChildProcess.key;
import static dev.vnet.store.StoreChildProcess.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/** The embedded engine against a second JVM ({@link StoreChildProcess}): kill -9, and the directory lock. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class EmbeddedConfigStoreProcessTest {
    private static final String END_OF_OUTPUT = "\0end";

    @TempDir
    Path temp;

    /**
     * The durability promise itself: the child acknowledges a key only after its put returned; the
     * child is killed with SIGKILL at a random moment; every acknowledged key must be there after
     * reopening, at the revision it was written at. Repetitions after the first also overwrite a large
     * value per key, so the log is rewritten as a snapshot every few dozen keys and the kill can land
     * in or around a compaction.
     */
    @RepeatedTest(3)
    void everyAcknowledgedWriteSurvivesKill9(RepetitionInfo repetition) throws Exception {
        Path directory = temp.resolve("store");
        int ballastBytes = repetition.getCurrentRepetition() == 1 ? 0 : 96 << 10;
        int writesPerKey = ballastBytes > 0 ? 2 : 1;
        int killAfterAcks = 200 + ThreadLocalRandom.current().nextInt(300);

        Child child = Child.start(temp, "write", directory.toString(), Integer.toString(ballastBytes));
        List<String> acknowledged = new ArrayList<>();
        try {
            while (acknowledged.size() < killAfterAcks) {
                String line = child.lines.poll(10, TimeUnit.SECONDS);
                if (line == null || line.equals(END_OF_OUTPUT)) {
                    fail("the writer stopped after " + acknowledged.size() + " acknowledgements; stderr:\n" + child.stderr());
                }
                acknowledged.add(line);
            }
            child.process.destroyForcibly();
            assertThat(child.process.waitFor(10, TimeUnit.SECONDS)).as("the killed writer exited").isTrue();
            // Acknowledgements already in the pipe when the kill landed count too.
            for (String line = child.lines.poll(5, TimeUnit.SECONDS); !END_OF_OUTPUT.equals(line);
                    line = child.lines.poll(5, TimeUnit.SECONDS)) {
                assertThat(line).as("the rest of the writer's output").isNotNull();
                acknowledged.add(line);
            }
        } finally {
            child.process.destroyForcibly();
        }

        int acks = acknowledged.size();
        for (int i = 0; i < acks; i++) {
            assertThat(acknowledged.get(i)).isEqualTo(key(i));
        }
        try (ConfigStore store = EmbeddedConfigStore.open(directory)) {
            for (int i = 0; i < acks; i++) {
                KeyValue entry = store.get(key(i)).orElseThrow(
                        () -> new AssertionError("acknowledged " + key(acks - 1) + " is missing of " + acks));
                assertThat(entry.value()).as("value of %s", key(i)).isEqualTo(value(i));
                assertThat(entry.modRevision()).as("revision of %s", key(i)).isEqualTo((long) i * writesPerKey + 1);
                assertThat(entry.createRevision()).isEqualTo(entry.modRevision());
                assertThat(entry.version()).isEqualTo(1);
            }
            // Beyond the acknowledged ones, at most the writes in flight at the kill may have made it.
            assertThat(store.range("k").entries()).hasSizeBetween(acks, acks + 1);
            assertThat(store.revision()).isBetween((long) acks * writesPerKey, (long) (acks + 1) * writesPerKey);
            if (ballastBytes > 0) {
                byte[] ballast = store.get("ballast").orElseThrow().value();
                assertThat(ballast).satisfiesAnyOf(
                        b -> assertThat(b).isEqualTo(ballast(acks - 1, ballastBytes)),
                        b -> assertThat(b).isEqualTo(ballast(acks, ballastBytes)));
            }
            // And the store goes on from there.
            long revision = store.revision();
            assertThat(store.put("after", value(0))).isEqualTo(revision + 1);
        }
        assertThat(directory.resolve(RecordLog.NEW_LOG_FILE_NAME)).doesNotExist();
    }

    @Test
    void aStoreOpenInAnotherProcessIsRefusedHere() throws Exception {
        Path directory = temp.resolve("store");
        Child child = Child.start(temp, "write", directory.toString(), "0");
        try {
            assertThat(child.lines.poll(10, TimeUnit.SECONDS)).as("first acknowledgement").isEqualTo(key(0));

            assertThatThrownBy(() -> EmbeddedConfigStore.open(directory))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("store directory " + directory.toRealPath() + " is in use by another process");
        } finally {
            child.process.destroyForcibly();
            child.process.waitFor(10, TimeUnit.SECONDS);
        }
        // The OS drops the lock with the process.
        EmbeddedConfigStore.open(directory).close();
    }

    @Test
    void aSecondOpenRefusedInThisProcessKeepsOtherProcessesOut() throws Exception {
        // POSIX releases all of a process's locks on a file when any descriptor of it is closed; a
        // refused second open must not unlock the directory behind the first store's back.
        Path directory = temp.resolve("store");
        try (ConfigStore store = EmbeddedConfigStore.open(directory)) {
            assertThatThrownBy(() -> EmbeddedConfigStore.open(directory)).isInstanceOf(IllegalStateException.class);

            Child probe = Child.start(temp, "probe", directory.toString());
            assertThat(probe.lines.poll(10, TimeUnit.SECONDS))
                    .isEqualTo("refused: store directory " + directory.toRealPath() + " is in use by another process");
            assertThat(probe.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            store.put("still", "writable".getBytes(StandardCharsets.UTF_8));
        }
        Child probe = Child.start(temp, "probe", directory.toString());
        assertThat(probe.lines.poll(10, TimeUnit.SECONDS)).isEqualTo("opened");
        assertThat(probe.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    /** A {@link StoreChildProcess}, its stdout as complete lines (then END_OF_OUTPUT), its stderr in a file. */
    private record Child(Process process, BlockingQueue<String> lines, Path stderrFile) {
        static Child start(Path temp, String... arguments) throws IOException {
            List<String> command = new ArrayList<>(List.of(
                    ProcessHandle.current().info().command().orElseThrow(),
                    "-XX:TieredStopAtLevel=1", "-Xmx128m",
                    "-cp", System.getProperty("java.class.path"),
                    StoreChildProcess.class.getName()));
            command.addAll(List.of(arguments));
            Path stderrFile = Files.createTempFile(temp, "child-", ".stderr");
            Process process = new ProcessBuilder(command).redirectError(stderrFile.toFile()).start();
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread.ofPlatform().daemon().name("child-stdout-" + process.pid())
                    .start(() -> readLines(process.getInputStream(), lines));
            return new Child(process, lines, stderrFile);
        }

        /** A line counts only once its newline arrived: a kill can cut the last one short. */
        private static void readLines(InputStream in, BlockingQueue<String> lines) {
            try (in) {
                StringBuilder line = new StringBuilder();
                for (int b = in.read(); b >= 0; b = in.read()) {
                    if (b == '\n') {
                        lines.add(line.toString());
                        line.setLength(0);
                    } else {
                        line.append((char) b);
                    }
                }
            } catch (IOException e) {
                // The pipe breaking is the end of the output too.
            } finally {
                lines.add(END_OF_OUTPUT);
            }
        }

        String stderr() {
            try {
                return Files.readString(stderrFile, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
