package dev.vnet.gateway.hashing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FlowHashTest {
    private static final int TCP = 6;
    private static final int UDP = 17;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void portsOnlyCountInFiveTupleMode(long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < 1000; i++) {
            int src = random.nextInt();
            int dst = random.nextInt();
            int sp = random.nextInt(65536);
            int dp = random.nextInt(65536);
            int sp2 = (sp + 1 + random.nextInt(65535)) & 0xFFFF;
            assertThat(FlowHash.ipv4(FlowIdentity.FIVE_TUPLE, seed, src, dst, TCP, sp, dp))
                    .isNotEqualTo(FlowHash.ipv4(FlowIdentity.FIVE_TUPLE, seed, src, dst, TCP, sp2, dp));
            assertThat(FlowHash.ipv4(FlowIdentity.THREE_TUPLE, seed, src, dst, TCP, sp, dp))
                    .isEqualTo(FlowHash.ipv4(FlowIdentity.THREE_TUPLE, seed, src, dst, TCP, sp2, dp + 1))
                    .isNotEqualTo(FlowHash.ipv4(FlowIdentity.THREE_TUPLE, seed, src, dst, UDP, sp, dp));
            assertThat(FlowHash.ipv4(FlowIdentity.TWO_TUPLE, seed, src, dst, TCP, sp, dp))
                    .isEqualTo(FlowHash.ipv4(FlowIdentity.TWO_TUPLE, seed, src, dst, UDP, sp2, dp + 1))
                    .isNotEqualTo(FlowHash.ipv4(FlowIdentity.TWO_TUPLE, seed, dst, src, TCP, sp, dp));
            assertThat(FlowHash.ipv6(FlowIdentity.THREE_TUPLE, seed, src, dst, dst, src, TCP, sp, dp))
                    .isEqualTo(FlowHash.ipv6(FlowIdentity.THREE_TUPLE, seed, src, dst, dst, src, TCP, sp2, dp));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {4, 5})
    void consecutivePortsSpreadOverAllBits(long seed) {
        // Flipping one input bit flips each output bit about half the time (avalanche).
        Random random = new Random(seed);
        int[] flips = new int[64];
        int trials = 20_000;
        for (int i = 0; i < trials; i++) {
            int src = random.nextInt();
            int dst = random.nextInt();
            int sp = random.nextInt(65535);
            long a = FlowHash.ipv4(src, dst, TCP, sp, 80);
            long b = FlowHash.ipv4(src, dst, TCP, sp + 1, 80);
            long diff = a ^ b;
            for (int bit = 0; bit < 64; bit++) if ((diff >>> bit & 1) != 0) flips[bit]++;
        }
        for (int bit = 0; bit < 64; bit++) assertThat(flips[bit] / (double) trials).isBetween(0.45, 0.55);
    }

    @ParameterizedTest
    @ValueSource(longs = {6})
    void seedChangesTheHashAndIsDeterministic(long seed) {
        Set<Long> seen = new HashSet<>();
        for (int p = 0; p < 10_000; p++) seen.add(FlowHash.ipv4(FlowIdentity.FIVE_TUPLE, seed, 0x0A000001, 0x0A000002, TCP, p, 80));
        assertThat(seen).hasSize(10_000);
        assertThat(FlowHash.ipv4(FlowIdentity.FIVE_TUPLE, seed, 1, 2, TCP, 3, 4))
                .isEqualTo(FlowHash.ipv4(FlowIdentity.FIVE_TUPLE, seed, 1, 2, TCP, 3, 4))
                .isNotEqualTo(FlowHash.ipv4(FlowIdentity.FIVE_TUPLE, seed + 1, 1, 2, TCP, 3, 4));
    }
}
