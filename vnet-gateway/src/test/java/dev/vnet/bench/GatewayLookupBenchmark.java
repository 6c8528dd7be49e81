package dev.vnet.bench;

import dev.vnet.gateway.hashing.ConsistentMapping;
import dev.vnet.gateway.hashing.FlowHash;
import dev.vnet.gateway.hashing.MappingSpec;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Lookups per second on one thread, for each mapping and backend count: {@code lookup} maps a
 * precomputed flow hash (the mapping alone); {@code hashAndLookup} hashes a 5-tuple first (what a
 * gateway does per new flow). 65,536 distinct flows per pass so the seed table's binary search and
 * Maglev's table see cache behaviour like real traffic, not one hot line.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class GatewayLookupBenchmark {
    private static final int FLOWS = 1 << 16;

    @Param({"seed-5", "seed-100", "seed-1000", "maglev-65537"})
    public String mapping;

    @Param({"10", "100", "1000"})
    public int backends;

    private ConsistentMapping table;
    private long[] hashes;
    private int[] sources;
    private int[] ports;

    @Setup
    public void setup() {
        String[] kindAndParameter = mapping.split("-");
        int parameter = Integer.parseInt(kindAndParameter[1]);
        MappingSpec spec = kindAndParameter[0].equals("seed") ? MappingSpec.seed(parameter) : MappingSpec.maglev(parameter);
        long[] ids = new long[backends];
        for (int i = 0; i < backends; i++) ids[i] = 0x0A010000L + i;
        boolean[] usable = new boolean[backends];
        Arrays.fill(usable, true);
        table = spec.build(ids, usable);
        SplittableRandom random = new SplittableRandom(11);
        hashes = new long[FLOWS];
        sources = new int[FLOWS];
        ports = new int[FLOWS];
        for (int i = 0; i < FLOWS; i++) {
            sources[i] = random.nextInt();
            ports[i] = random.nextInt(65536);
            hashes[i] = FlowHash.ipv4(sources[i], 0x7B1863E6, 6, ports[i], 443);
        }
    }

    @Benchmark
    @OperationsPerInvocation(FLOWS)
    public int lookup() {
        ConsistentMapping t = table;
        long[] h = hashes;
        int sum = 0;
        for (int i = 0; i < h.length; i++) sum += t.backendOf(h[i]);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(FLOWS)
    public int hashAndLookup() {
        ConsistentMapping t = table;
        int[] s = sources;
        int[] p = ports;
        int sum = 0;
        for (int i = 0; i < s.length; i++) sum += t.backendOf(FlowHash.ipv4(s[i], 0x7B1863E6, 6, p[i], 443));
        return sum;
    }
}
