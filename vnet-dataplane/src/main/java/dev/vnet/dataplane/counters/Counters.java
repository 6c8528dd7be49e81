package dev.vnet.dataplane.counters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.vnet.dataplane.counters.CountersLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The writing side of a counters file (see {@link CountersLayout}). Counters are allocated at start-up
 * (not per packet); asking twice for the same label returns the same slot.
 */
public final class Counters implements AutoCloseable {
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final Arena arena;
    private final MemorySegment memory;
    private final int capacity;
    private final Map<String, Counter> byLabel = new LinkedHashMap<>();

    private Counters(Arena arena, MemorySegment memory, int capacity) {
        this.arena = arena;
        this.memory = memory;
        this.capacity = capacity;
        memory.set(JAVA_LONG, MAGIC_OFFSET, MAGIC);
        memory.set(JAVA_INT, VERSION_OFFSET, VERSION);
        memory.set(JAVA_INT, CAPACITY_OFFSET, capacity);
        memory.set(JAVA_LONG, PID_OFFSET, ProcessHandle.current().pid());
        memory.set(JAVA_LONG, START_OFFSET, System.currentTimeMillis());
        state(AgentState.STARTING);
    }

    /** Creates (or truncates) a counters file that other processes can map. */
    public static Counters createFile(Path file, int capacity) {
        Arena arena = Arena.ofShared();
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot create the directory of " + file, e);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            long length = fileLength(capacity);
            MemorySegment memory = channel.map(FileChannel.MapMode.READ_WRITE, 0, length, arena);
            return new Counters(arena, memory, capacity);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot create counters file " + file, e);
        }
    }

    /** Counters in process memory only (tests, embedded use). */
    public static Counters inMemory(int capacity) {
        Arena arena = Arena.ofShared();
        return new Counters(arena, arena.allocate(fileLength(capacity), 8), capacity);
    }

    public synchronized Counter counter(String label) {
        Counter existing = byLabel.get(label);
        if (existing != null) {
            return existing;
        }
        byte[] bytes = encodeLabel(label);
        int index = byLabel.size();
        if (index >= capacity) {
            throw new IllegalStateException("counters file is full (" + capacity + " counters)");
        }
        long record = recordOffset(index);
        memory.set(JAVA_LONG, record + VALUE_OFFSET, 0L);
        memory.set(JAVA_INT, record + LABEL_LENGTH_OFFSET, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, memory, record + LABEL_OFFSET, bytes.length);
        INT.setRelease(memory, (long) USED_OFFSET, index + 1);
        Counter counter = new Counter(memory, record + VALUE_OFFSET, label);
        byLabel.put(label, counter);
        return counter;
    }

    public void state(AgentState state) {
        INT.setRelease(memory, (long) STATE_OFFSET, state.ordinal());
    }

    /** A reader over this same memory (tests read what they wrote without a file). */
    public CountersReader reader() {
        return new CountersReader(memory);
    }

    @Override
    public void close() {
        arena.close();
    }
}
