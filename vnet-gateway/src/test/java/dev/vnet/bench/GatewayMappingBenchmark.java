package dev.vnet.bench;

import dev.vnet.gateway.hashing.ConsistentMapping;
import dev.vnet.gateway.hashing.FlowHash;
import dev.vnet.gateway.hashing.MaglevTable;
import dev.vnet.gateway.hashing.MappingSpec;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The consistent mappings side by side, for 10, 100 and 1,000 backends and 1 M random 5-tuple
 * flows: imbalance (max/mean − 1) of the flows and of the hash-space shares, the share of flows that
 * move when one backend leaves against the ideal 1/N, and the table build time (median of 5).
 * Prints one Markdown table. Lookups per second are {@link GatewayLookupBenchmark}'s (JMH).
 *
 * <p>Usage: java -cp ... dev.vnet.bench.GatewayMappingBenchmark [flows] (default 1,000,000)
 */
public final class GatewayMappingBenchmark {
    private GatewayMappingBenchmark() {}

    public static void main(String[] args) {
        int flowCount = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        List<MappingSpec> specs = List.of(MappingSpec.seed(5), MappingSpec.seed(100), MappingSpec.seed(1000),
                MappingSpec.maglev(MaglevTable.DEFAULT_SIZE));
        SplittableRandom random = new SplittableRandom(7);
        long[] flows = new long[flowCount];
        for (int i = 0; i < flowCount; i++) {
            flows[i] = FlowHash.ipv4(random.nextInt(), 0x7B1863E6, 6, random.nextInt(65536), 443);
        }
        System.out.println("| backends | mapping | flow imbalance (max/mean − 1) | share imbalance (max/mean − 1) | moved when one leaves | ideal 1/N | build ms |");
        System.out.println("|---:|---|---:|---:|---:|---:|---:|");
        for (int n : new int[] {10, 100, 1000}) {
            long[] ids = new long[n];
            for (int i = 0; i < n; i++) ids[i] = 0x0A010000L + i; // 10.1.x.y backends
            boolean[] all = new boolean[n];
            Arrays.fill(all, true);
            for (MappingSpec spec : specs) {
                double[] buildMs = new double[5];
                ConsistentMapping mapping = null;
                for (int r = 0; r < buildMs.length; r++) {
                    long t0 = System.nanoTime();
                    mapping = spec.build(ids, all);
                    buildMs[r] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(buildMs);
                int[] count = new int[n];
                for (long h : flows) count[mapping.backendOf(h)]++;
                double mean = flowCount / (double) n;
                int max = Arrays.stream(count).max().orElseThrow();
                double shareMax = Arrays.stream(mapping.shares()).max().orElseThrow();
                boolean[] oneLeft = all.clone();
                oneLeft[n / 2] = false;
                ConsistentMapping after = mapping.withUsable(oneLeft);
                int moved = 0;
                for (long h : flows) if (mapping.backendOf(h) != after.backendOf(h)) moved++;
                System.out.printf("| %d | %s | %.2f %% | %.2f %% | %.3f %% | %.3f %% | %.2f |%n", n, spec,
                        100 * (max / mean - 1), 100 * (shareMax * n - 1), 100.0 * moved / flowCount, 100.0 / n, buildMs[2]);
            }
        }
        System.out.printf("%n%,d random TCP flows (random source address and port, one destination); one leaving backend = index N/2.%n", flowCount);
    }
}
