package dev.vnet.bgp.session;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When to try a peer again after a failed connection or a session that went down: {@code initial}
 * after the first failure, doubling with each further one up to {@code max} (fixed when the two are
 * equal), each delay jittered to 75-100 % of its value (RFC 4271 §10) so that speakers that failed
 * together do not retry in lockstep. The count of failures resets when a session is established.
 */
public record ConnectRetry(Duration initial, Duration max) {
    public static final ConnectRetry DEFAULT = new ConnectRetry(Duration.ofSeconds(1), Duration.ofSeconds(30));

    public ConnectRetry {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("connect retry needs 0 < initial <= max: " + initial + ", " + max);
        }
    }

    public static ConnectRetry fixed(Duration delay) {
        return new ConnectRetry(delay, delay);
    }

    /** The delay before attempt {@code failures + 1}, in nanoseconds, jittered. */
    public long delayNanos(int failures) {
        long base = initial.toNanos();
        long limit = max.toNanos();
        for (int i = 0; i < failures && base < limit; i++) {
            base *= 2;
        }
        base = Math.min(base, limit);
        return (long) (base * (0.75 + 0.25 * ThreadLocalRandom.current().nextDouble()));
    }
}
