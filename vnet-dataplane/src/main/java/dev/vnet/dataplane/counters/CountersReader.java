package dev.vnet.dataplane.counters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.vnet.dataplane.counters.CountersLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Reads a counters file written by a (possibly running) agent. */
public final class CountersReader {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final VarHandle LONG = JAVA_LONG.varHandle();

    private final MemorySegment memory;

    CountersReader(MemorySegment memory) {
        this.memory = memory;
    }

    /** Maps {@code file} read-only; fails with a clear message if it is not a counters file. */
    public static CountersReader open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < HEADER_LENGTH) {
                throw new IllegalArgumentException(file + " is not a vnet counters file (too short)");
            }
            MemorySegment memory = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
            if (memory.get(JAVA_LONG, MAGIC_OFFSET) != MAGIC || memory.get(JAVA_INT, VERSION_OFFSET) != VERSION) {
                throw new IllegalArgumentException(file + " is not a vnet counters file (bad magic or version)");
            }
            long capacity = memory.get(JAVA_INT, CAPACITY_OFFSET);
            if (size < fileLength((int) capacity)) {
                throw new IllegalArgumentException(file + " is truncated");
            }
            return new CountersReader(memory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read counters file " + file, e);
        }
    }

    public AgentState state() {
        return AgentState.of((int) INT.getAcquire(memory, (long) STATE_OFFSET));
    }

    public long pid() {
        return memory.get(JAVA_LONG, PID_OFFSET);
    }

    public long startEpochMillis() {
        return memory.get(JAVA_LONG, START_OFFSET);
    }

    /** Every counter by label, in allocation order. */
    public Map<String, Long> snapshot() {
        int used = (int) INT.getAcquire(memory, (long) USED_OFFSET);
        int capacity = memory.get(JAVA_INT, CAPACITY_OFFSET);
        Map<String, Long> values = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(used, capacity); i++) {
            long record = recordOffset(i);
            int labelLength = Math.clamp(memory.get(JAVA_INT, record + LABEL_LENGTH_OFFSET), 0, MAX_LABEL_BYTES);
            byte[] label = memory.asSlice(record + LABEL_OFFSET, labelLength).toArray(JAVA_BYTE);
            values.put(new String(label, StandardCharsets.UTF_8), (long) LONG.getVolatile(memory, record + VALUE_OFFSET));
        }
        return values;
    }

    /** The value of {@code label}, or 0 if no such counter exists yet. */
    public long value(String label) {
        return snapshot().getOrDefault(label, 0L);
    }
}
