package dev.vnet.dataplane.counters;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** One 64-bit counter slot; safe to update from any thread, readable by other processes. */
public final class Counter {
    private static final VarHandle VALUE = JAVA_LONG.varHandle();

    private final MemorySegment memory;
    private final long offset;
    private final String label;

    Counter(MemorySegment memory, long offset, String label) {
        this.memory = memory;
        this.offset = offset;
        this.label = label;
    }

    public void increment() {
        VALUE.getAndAdd(memory, offset, 1L);
    }

    public void add(long delta) {
        VALUE.getAndAdd(memory, offset, delta);
    }

    public long get() {
        return (long) VALUE.getVolatile(memory, offset);
    }

    public String label() {
        return label;
    }
}
