package dev.vnet.wire;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VnpTokenTest {
    private static final byte[] KEY = new byte[32];

    static {
        for (int i = 0; i < 32; i++) {
            KEY[i] = (byte) i;
        }
    }

    /** Expected values computed independently with Python's hmac module over the documented layout. */
    @Test
    void matchesAnIndependentComputationOfTheDocumentedLayout() {
        byte[] message = new byte[VnpToken.MESSAGE_LENGTH];
        VnpToken.writeMessage(message, 0x0AFF0001, 47901, 0x0A000001, 0x0A000002, 1_800_000_000L);
        assertThat(HexFormat.of().formatHex(message)).isEqualTo("0aff0001bb1d0a0000010a0000026b49d200");

        VnpToken token = new VnpToken(KEY);
        assertThat(token.compute(0x0AFF0001, 47901, 0x0A000001, 0x0A000002, 1_800_000_000L))
                .isEqualTo(0xa3d4fb509198a011L);
        assertThat(token.compute(0x0AFF0001, 47901, 0x0A000001, 0x0A000002, VnpHeader.EXPIRY_NEVER))
                .isEqualTo(0xf449d8111cfaaaedL);
    }

    @Test
    void everyFieldAndTheKeyChangeTheToken() {
        VnpToken token = new VnpToken(KEY);
        long base = token.compute(1, 2, 3, 4, 5);
        assertThat(token.compute(1, 2, 3, 4, 5)).isEqualTo(base);
        assertThat(token.compute(9, 2, 3, 4, 5)).isNotEqualTo(base);
        assertThat(token.compute(1, 9, 3, 4, 5)).isNotEqualTo(base);
        assertThat(token.compute(1, 2, 9, 4, 5)).isNotEqualTo(base);
        assertThat(token.compute(1, 2, 3, 9, 5)).isNotEqualTo(base);
        assertThat(token.compute(1, 2, 3, 4, 9)).isNotEqualTo(base);
        byte[] otherKey = KEY.clone();
        otherKey[31] ^= 1;
        assertThat(new VnpToken(otherKey).compute(1, 2, 3, 4, 5)).isNotEqualTo(base);
    }

    @Test
    void rejectsKeysOfTheWrongSize() {
        assertThatThrownBy(() -> new VnpToken(new byte[16])).hasMessageContaining("32 bytes");
        assertThatThrownBy(() -> new VnpToken(null)).hasMessageContaining("32 bytes");
    }

    @Test
    void computingATokenAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        VnpToken token = new VnpToken(KEY);
        long sink = 0;
        for (int i = 0; i < 50_000; i++) {
            sink += token.compute(i, 2, 3, 4, 5);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            sink += token.compute(i, 2, 3, 4, 5);
        }
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).as("bytes allocated (sink %d)", sink).isLessThan(1024);
    }
}
