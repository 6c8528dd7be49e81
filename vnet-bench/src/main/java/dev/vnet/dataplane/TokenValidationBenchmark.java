package dev.vnet.dataplane;

import dev.vnet.wire.VnpToken;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What validating a received token costs: a hit in the per-VM {@link ValidationCache} (the cost of every
 * packet of a pair after its first) against recomputing the HMAC (the first packet, or any packet whose
 * entry was evicted). Lives in the data plane's package to reach the package-private cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TokenValidationBenchmark {
    private static final int SOURCE_HOST = 0x0AFF0001;
    private static final int SOURCE_PORT = 47901;
    private static final int SOURCE_VM = 0x0A000001;
    private static final int DESTINATION_VM = 0x0A000002;
    private static final long EXPIRY = 1_800_000_000L;
    private final ValidationCache cache = new ValidationCache(4096);
    private VnpToken mac;
    private long token;

    @Setup
    public void setUp() {
        mac = new VnpToken(new byte[32]);
        token = mac.compute(SOURCE_HOST, SOURCE_PORT, SOURCE_VM, DESTINATION_VM, EXPIRY);
        for (int i = 0; i < 4096; i++) { // a cache full of other pairs, as on a busy host
            cache.put(SOURCE_HOST + i, SOURCE_PORT, SOURCE_VM + i, token + i, EXPIRY);
        }
        cache.put(SOURCE_HOST, SOURCE_PORT, SOURCE_VM, token, EXPIRY);
    }

    @Benchmark
    public boolean cachedValidation() {
        return cache.contains(SOURCE_HOST, SOURCE_PORT, SOURCE_VM, token, EXPIRY);
    }

    @Benchmark
    public boolean uncachedValidation() {
        return mac.compute(SOURCE_HOST, SOURCE_PORT, SOURCE_VM, DESTINATION_VM, EXPIRY) == token;
    }
}
