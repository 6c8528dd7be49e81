package dev.vnet.dataplane.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * What a forwarding thread does when its non-blocking read found nothing: spin briefly, then sleep in
 * {@code poll}.
 *
 * <p>Why spin: on this machine kind a thread blocked in a read takes tens of microseconds to wake when
 * a packet arrives (the idle vCPU halts and must be kicked), and a packet crossing vnet wakes two
 * threads per direction. Right after a packet the next one is likely near (the rest of a burst, the
 * reply to a request), so for {@code spinNanos} after the last packet the thread retries the read,
 * paying a syscall per try instead of a wake-up. After that it blocks in {@code poll} with a timeout, so
 * an idle port costs nothing and the thread still notices when it should stop. {@code spinNanos = 0}
 * blocks at once (the old behaviour, best when cores are scarce).
 *
 * <p>One instance per thread and descriptor; allocation-free after construction (the
 * {@code struct pollfd} is preallocated).
 */
public final class ReadinessWait {
    /** Upper bound on a sleep, so a stopping thread notices within this time. */
    public static final int MAX_SLEEP_MILLIS = 200;

    private final Libc libc;
    private final MemorySegment pollfds;
    private final int count;
    private final long spinNanos;
    private long lastActivity;
    private long sleeps;

    /** Waits for any of {@code fds} to become readable. */
    public ReadinessWait(Libc libc, long spinNanos, Arena arena, int... fds) {
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spin time must be >= 0, not " + spinNanos);
        }
        if (fds.length == 0) {
            throw new IllegalArgumentException("nothing to wait for");
        }
        this.libc = libc;
        this.spinNanos = spinNanos;
        this.count = fds.length;
        this.pollfds = arena.allocate(8L * count, 4);
        for (int i = 0; i < count; i++) {
            pollfds.set(JAVA_INT, 8L * i, fds[i]);
            pollfds.set(JAVA_SHORT, 8L * i + 4, Libc.POLLIN);
        }
        this.lastActivity = System.nanoTime();
    }

    /** Call when a read returned data: the spin window restarts. */
    public void activity() {
        if (spinNanos > 0) {
            lastActivity = System.nanoTime();
        }
    }

    /**
     * Call when a read found nothing. Returns at once while within the spin window, otherwise after the
     * descriptor became readable, an error or hang-up on it, or {@link #MAX_SLEEP_MILLIS}.
     *
     * @return false if {@code poll} failed with something other than EINTR (the caller should stop)
     */
    public boolean idle() {
        if (spinNanos > 0 && System.nanoTime() - lastActivity < spinNanos) {
            Thread.onSpinWait();
            return true;
        }
        for (int i = 0; i < count; i++) {
            pollfds.set(JAVA_SHORT, 8L * i + 6, (short) 0);
        }
        sleeps++;
        int ready = libc.poll(pollfds.address(), count, MAX_SLEEP_MILLIS);
        if (ready > 0) {
            lastActivity = System.nanoTime(); // woken by traffic: spin for what follows it
        }
        return ready >= 0 || libc.errno() == Libc.EINTR;
    }

    /** How many times this wait slept in {@code poll} rather than spinning. */
    public long sleeps() {
        return sleeps;
    }
}
