package dev.vnet.gateway.health;

import dev.vnet.gateway.path.VipService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Checks every backend of every VIP from this gateway, on the VIP's interval, and marks it healthy
 * after {@code up} consecutive successes and unhealthy after {@code down} consecutive failures
 * (a probe that exceeds its timeout fails). A backend starts healthy, as a load balancer's members
 * usually do, so traffic flows from the first second; a dead one stops receiving new flows within
 * {@code interval × down} plus one timeout.
 *
 * <p>Each probe runs on a virtual thread, so a slow backend delays no other; a probe still running when
 * its next turn comes is not doubled. State is kept per (VIP, VM) across configuration changes, so a
 * refreshed configuration does not make a sick backend healthy again.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    /** What to check for one backend of one VIP. */
    public record Target(VipService vip, int backend, InetAddress address, Probe probe, int intervalMillis,
                         int timeoutMillis, int up, int down) {
    }

    private static final class State {
        volatile boolean healthy = true;
        int successes;
        int failures;
        final AtomicBoolean running = new AtomicBoolean();
    }

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "health-timer");
        thread.setDaemon(true);
        return thread;
    });
    private final ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, State> states = new HashMap<>();
    private final List<ScheduledFuture<?>> scheduled = new ArrayList<>();
    private final List<String> transitions = new ArrayList<>();

    /** Replaces what is checked; states of (VIP, VM) pairs that remain carry over. */
    public synchronized void watch(List<Target> targets) {
        scheduled.forEach(task -> task.cancel(false));
        scheduled.clear();
        Map<String, State> kept = new HashMap<>();
        for (Target target : targets) {
            String key = key(target);
            State state = states.getOrDefault(key, new State());
            kept.put(key, state);
            target.vip().setHealthy(target.backend(), state.healthy);
            scheduled.add(timer.scheduleAtFixedRate(() -> launch(target, state), 0, target.intervalMillis(), TimeUnit.MILLISECONDS));
        }
        states.clear();
        states.putAll(kept);
    }

    private static String key(Target target) {
        return target.vip().name() + "/" + target.vip().backend(target.backend()).vm();
    }

    private void launch(Target target, State state) {
        if (!state.running.compareAndSet(false, true)) {
            return;
        }
        probes.execute(() -> {
            try {
                record(target, state, target.probe().check(target.address(), target.timeoutMillis()));
            } finally {
                state.running.set(false);
            }
        });
    }

    private void record(Target target, State state, boolean success) {
        synchronized (state) {
            if (success) {
                state.failures = 0;
                state.successes++;
                if (!state.healthy && state.successes >= target.up()) {
                    change(target, state, true);
                }
            } else {
                state.successes = 0;
                state.failures++;
                if (state.healthy && state.failures >= target.down()) {
                    change(target, state, false);
                }
            }
        }
    }

    private void change(Target target, State state, boolean healthy) {
        state.healthy = healthy;
        target.vip().setHealthy(target.backend(), healthy);
        String line = key(target) + (healthy ? " up" : " down");
        LOG.info("backend {}", line);
        synchronized (transitions) {
            transitions.add(line);
        }
    }

    /** Every health change so far, as "vip/vm up|down", oldest first (for the status file and tests). */
    public List<String> transitions() {
        synchronized (transitions) {
            return List.copyOf(transitions);
        }
    }

    @Override
    public synchronized void close() {
        scheduled.forEach(task -> task.cancel(false));
        timer.shutdownNow();
        probes.shutdownNow();
    }
}
