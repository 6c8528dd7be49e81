package dev.vnet.dataplane.counters;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CountersTest {
    @TempDir
    Path dir;

    @Test
    void anotherReaderSeesLiveValuesAndStateThroughTheFile() {
        Path file = dir.resolve("h.counters");
        try (Counters counters = Counters.createFile(file, 16)) {
            Counter packets = counters.counter("port.a.rx_packets");
            packets.add(41);
            packets.increment();
            CountersReader reader = CountersReader.open(file);
            assertThat(reader.state()).isEqualTo(AgentState.STARTING);
            assertThat(reader.value("port.a.rx_packets")).isEqualTo(42);
            assertThat(reader.pid()).isEqualTo(ProcessHandle.current().pid());
            counters.state(AgentState.RUNNING);
            counters.counter("drop.x").increment();
            assertThat(reader.state()).isEqualTo(AgentState.RUNNING);
            assertThat(reader.snapshot()).containsExactly(
                    org.assertj.core.api.Assertions.entry("port.a.rx_packets", 42L),
                    org.assertj.core.api.Assertions.entry("drop.x", 1L));
        }
    }

    @Test
    void sameLabelSameSlot() {
        try (Counters counters = Counters.inMemory(4)) {
            counters.counter("a").increment();
            counters.counter("a").increment();
            assertThat(counters.reader().snapshot()).hasSize(1).containsEntry("a", 2L);
        }
    }

    @Test
    void concurrentIncrementsAreNotLost() throws Exception {
        try (Counters counters = Counters.inMemory(4)) {
            Counter counter = counters.counter("c");
            Thread[] threads = IntStream.range(0, 4).mapToObj(i -> Thread.ofPlatform().start(() -> {
                for (int n = 0; n < 100_000; n++) {
                    counter.increment();
                }
            })).toArray(Thread[]::new);
            for (Thread thread : threads) {
                thread.join();
            }
            assertThat(counter.get()).isEqualTo(400_000);
        }
    }

    @Test
    void clearErrors() throws Exception {
        try (Counters counters = Counters.inMemory(1)) {
            counters.counter("a");
            assertThatThrownBy(() -> counters.counter("b")).hasMessageContaining("full");
            assertThatThrownBy(() -> counters.counter("x".repeat(200))).hasMessageContaining("longer than");
        }
        Path notCounters = dir.resolve("other");
        Files.write(notCounters, new byte[100]);
        assertThatThrownBy(() -> CountersReader.open(notCounters)).hasMessageContaining("not a vnet counters file");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[3]);
        assertThatThrownBy(() -> CountersReader.open(tiny)).hasMessageContaining("too short");
    }
}
