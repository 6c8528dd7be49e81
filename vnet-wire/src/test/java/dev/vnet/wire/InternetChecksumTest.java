package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InternetChecksumTest {
    /** Straight from RFC 1071: 16-bit big-endian words, odd byte padded, end-around carry. */
    private static int referenceSum(byte[] data, int from, int to) {
        long sum = 0;
        for (int i = from; i < to; i += 2) {
            int high = data[i] & 0xFF;
            int low = i + 1 < to ? data[i + 1] & 0xFF : 0;
            sum += (high << 8) | low;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    @Test
    void matchesTheWorkedExampleInRfc1071() {
        ByteBuffer buffer = ByteBuffer.wrap(Buffers.hex("0001 f203 f4f5 f6f7"));
        assertThat(InternetChecksum.sum(buffer, 0, 8)).isEqualTo(0xddf2);
        assertThat(InternetChecksum.checksum(buffer, 0, 8)).isEqualTo(0x220d);
    }

    @ParameterizedTest
    @EnumSource(Buffers.Kind.class)
    void matchesTheReferenceForEveryLengthAndAlignment(Buffers.Kind kind) {
        Random random = new Random(1071);
        byte[] data = new byte[200];
        for (int round = 0; round < 20; round++) {
            random.nextBytes(data);
            ByteBuffer buffer = kind.holding(data, 0);
            for (int from = 0; from < 9; from++) {
                for (int length = 0; length <= 150; length++) {
                    assertThat(InternetChecksum.sum(buffer, from, length))
                        .as("sum from %d length %d", from, length)
                        .isEqualTo(referenceSum(data, from, from + length));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Buffers.Kind.class)
    void carriesAreFoldedOverLongRunsOfOnes(Buffers.Kind kind) {
        byte[] ones = new byte[70_001];
        Arrays.fill(ones, (byte) 0xFF);
        ByteBuffer buffer = kind.holding(ones, 1);
        assertThat(InternetChecksum.sum(buffer, 1, ones.length)).isEqualTo(referenceSum(ones, 0, ones.length));
        assertThat(InternetChecksum.sum(buffer, 1, ones.length - 1)).isEqualTo(0xFFFF);
    }

    @Test
    void emptyRangeSumsToZero() {
        assertThat(InternetChecksum.sum(ByteBuffer.allocate(0), 0, 0)).isZero();
        assertThat(InternetChecksum.checksum(ByteBuffer.allocate(0), 0, 0)).isEqualTo(0xFFFF);
    }

    @Test
    void foldReducesAnyUnsignedSumAndComplements() {
        assertThat(InternetChecksum.fold(0)).isEqualTo(0xFFFF);
        assertThat(InternetChecksum.fold(0xFFFF)).isZero();
        assertThat(InternetChecksum.fold(0x1_FFFE)).isZero();
        assertThat(InternetChecksum.fold(0xddf2)).isEqualTo(0x220d);
        assertThat(InternetChecksum.fold(0xFFFF_FFFF)).isZero();
        assertThat(InternetChecksum.fold(0x8000_0000)).isEqualTo(~0x8000 & 0xFFFF);
    }

    @Test
    void partialSumsCombineWithPlainAddition() {
        Random random = new Random(7);
        byte[] data = new byte[1000];
        random.nextBytes(data);
        ByteBuffer buffer = ByteBuffer.wrap(data);
        int whole = InternetChecksum.checksum(buffer, 0, 1000);
        int pieces = InternetChecksum.fold(InternetChecksum.sum(buffer, 0, 10) + InternetChecksum.sum(buffer, 10, 500)
            + InternetChecksum.sum(buffer, 510, 490));
        assertThat(pieces).isEqualTo(whole);
    }

    @Test
    void dataIncludingItsChecksumVerifies() {
        ByteBuffer buffer = ByteBuffer.wrap(Buffers.hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7"));
        int checksum = InternetChecksum.checksum(buffer, 0, 20);
        assertThat(checksum).isEqualTo(0xb861);
        buffer.putShort(10, (short) checksum);
        assertThat(InternetChecksum.checksum(buffer, 0, 20)).isZero();
        assertThat(InternetChecksum.verifies(buffer, 0, 20, 0)).isTrue();
        buffer.put(19, (byte) 0xc8);
        assertThat(InternetChecksum.verifies(buffer, 0, 20, 0)).isFalse();
    }

    @Test
    void verifyAcceptsBothOnesComplementZeros() {
        assertThat(InternetChecksum.verifies(ByteBuffer.wrap(Buffers.hex("ffff 0000")), 0, 4, 0)).isTrue();
        assertThat(InternetChecksum.verifies(ByteBuffer.wrap(Buffers.hex("ffff ffff")), 0, 4, 0)).isTrue();
        assertThat(InternetChecksum.verifies(ByteBuffer.wrap(Buffers.hex("0000 0000")), 0, 4, 0)).isFalse();
    }

    @Test
    void pseudoHeaderSumMatchesSummingTheBytes() {
        // 127.0.0.1 -> 127.0.0.1, UDP, 18 bytes, laid out as the 12-byte pseudo-header.
        ByteBuffer pseudo = ByteBuffer.wrap(Buffers.hex("7f000001 7f000001 00 11 0012"));
        int expected = InternetChecksum.sum(pseudo, 0, 12);
        assertThat(InternetChecksum.pseudoHeaderSumIpv4(0x7f00_0001, 0x7f00_0001, 17, 18)).isEqualTo(expected);

        ByteBuffer high = ByteBuffer.wrap(Buffers.hex("ffffffff fffffffe 00 06 ffff"));
        assertThat(InternetChecksum.pseudoHeaderSumIpv4(-1, -2, 6, 0xFFFF)).isEqualTo(InternetChecksum.sum(high, 0, 12));
    }

    @Test
    void leavesPositionAndLimitAlone() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        buffer.position(5).limit(40);
        InternetChecksum.sum(buffer, 7, 33);
        assertThat(buffer.position()).isEqualTo(5);
        assertThat(buffer.limit()).isEqualTo(40);
    }
}
