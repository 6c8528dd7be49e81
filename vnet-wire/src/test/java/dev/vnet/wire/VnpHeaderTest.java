package dev.vnet.wire;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class VnpHeaderTest {
    private static final int INNER = 40;

    /** A datagram payload: header, a 40-byte IPv4 packet, then the given trailer. */
    private static byte[] datagram(int flags, byte[] trailer) {
        byte[] bytes = new byte[VnpHeader.LENGTH + INNER + trailer.length];
        ByteBuffer b = ByteBuffer.wrap(bytes);
        VnpHeader.write(b, 0, 0x0102030405060708L, 1_800_000_000L, flags);
        Ipv4Packet.writeHeader(b, VnpHeader.LENGTH, INNER, 1, 64, Ipv4Packet.PROTOCOL_TCP, 0x0A000001, 0x0A000002);
        System.arraycopy(trailer, 0, bytes, VnpHeader.LENGTH + INNER, trailer.length);
        return bytes;
    }

    private static byte[] returnTokenOption() {
        byte[] option = new byte[VnpHeader.RETURN_TOKEN_OPTION_LENGTH];
        assertThat(VnpHeader.writeReturnToken(ByteBuffer.wrap(option), 0, 0x1112131415161718L, VnpHeader.EXPIRY_NEVER))
                .isEqualTo(14);
        return option;
    }

    @Test
    void readsWhatWasWrittenWithoutOptions() {
        byte[] bytes = datagram(0, new byte[0]);
        VnpHeader header = new VnpHeader();
        assertThat(header.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isTrue();
        assertThat(header.token()).isEqualTo(0x0102030405060708L);
        assertThat(header.expiry()).isEqualTo(1_800_000_000L);
        assertThat(header.innerOffset()).isEqualTo(16);
        assertThat(header.innerLength()).isEqualTo(INNER);
        assertThat(header.hasReturnToken()).isFalse();
    }

    @Test
    void findsTheReturnTokenAfterTheInnerPacketAndSkipsUnknownOptions() {
        byte[] unknown = {(byte) 200, 3, 9, 9, 9};
        byte[] trailer = new byte[unknown.length + 14];
        System.arraycopy(unknown, 0, trailer, 0, unknown.length);
        System.arraycopy(returnTokenOption(), 0, trailer, unknown.length, 14);
        byte[] bytes = datagram(VnpHeader.FLAG_OPTIONS, trailer);
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length + 5).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(5, bytes);
        VnpHeader header = new VnpHeader();
        assertThat(header.wrap(buffer, 5, bytes.length)).isTrue();
        assertThat(header.hasReturnToken()).isTrue();
        assertThat(header.returnToken()).isEqualTo(0x1112131415161718L);
        assertThat(header.returnExpiry()).isEqualTo(VnpHeader.EXPIRY_NEVER);
        assertThat(header.token()).isEqualTo(0x0102030405060708L);
        assertThat(header.innerOffset()).isEqualTo(5 + 16);
    }

    @Test
    void carriesTheChecksumPartialFlag() {
        byte[] bytes = datagram(VnpHeader.FLAG_CHECKSUM_PARTIAL, new byte[0]);
        VnpHeader header = new VnpHeader();
        assertThat(header.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isTrue();
        assertThat(header.flags() & VnpHeader.FLAG_CHECKSUM_PARTIAL).isNotZero();
    }

    @Test
    void rejectsEveryMalformedLayout() {
        VnpHeader header = new VnpHeader();
        byte[] good = datagram(0, new byte[0]);
        assertThat(accepts(header, Arrays.copyOf(good, 35))).as("shorter than header + IPv4 header").isFalse();
        byte[] version = good.clone();
        version[VnpHeader.VERSION_OFFSET] = 2;
        assertThat(accepts(header, version)).as("version").isFalse();
        byte[] flags = good.clone();
        flags[VnpHeader.FLAGS_OFFSET] = 0x04;
        assertThat(accepts(header, flags)).as("unknown flag").isFalse();
        byte[] reserved = good.clone();
        reserved[VnpHeader.RESERVED_OFFSET] = 1;
        assertThat(accepts(header, reserved)).as("reserved").isFalse();
        byte[] notIpv4 = good.clone();
        notIpv4[16] = 0x65;
        assertThat(accepts(header, notIpv4)).as("inner not IPv4").isFalse();
        byte[] longInner = good.clone();
        ByteBuffer.wrap(longInner).putShort(16 + 2, (short) 41);
        assertThat(accepts(header, longInner)).as("inner longer than datagram").isFalse();
        byte[] shortInner = good.clone();
        ByteBuffer.wrap(shortInner).putShort(16 + 2, (short) 19);
        assertThat(accepts(header, shortInner)).as("inner shorter than an IPv4 header").isFalse();
        assertThat(accepts(header, datagram(0, new byte[]{1, 2}))).as("trailing bytes without O").isFalse();
        assertThat(accepts(header, datagram(VnpHeader.FLAG_OPTIONS, new byte[0]))).as("O without options").isFalse();
        assertThat(accepts(header, datagram(VnpHeader.FLAG_OPTIONS, new byte[]{1}))).as("half an option header").isFalse();
        assertThat(accepts(header, datagram(VnpHeader.FLAG_OPTIONS, new byte[]{7, 5, 0}))).as("option past the end").isFalse();
        assertThat(accepts(header, datagram(VnpHeader.FLAG_OPTIONS, new byte[]{1, 4, 0, 0, 0, 0}))).as("short return token").isFalse();
        assertThat(header.buffer()).as("a failed wrap detaches").isNull();
    }

    private static boolean accepts(VnpHeader header, byte[] bytes) {
        return header.wrap(ByteBuffer.wrap(bytes), 0, bytes.length);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 5, 8, 13, 21})
    void randomCorruptionNeverThrowsAndNeverReadsOutside(long seed) {
        Random random = new Random(seed);
        VnpHeader header = new VnpHeader();
        byte[] good = datagram(VnpHeader.FLAG_OPTIONS, returnTokenOption());
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = Arrays.copyOf(good, random.nextInt(good.length + 8));
            for (int flips = random.nextInt(5); flips > 0 && bytes.length > 0; flips--) {
                bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
            }
            if (header.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)) {
                assertThat(header.innerOffset() + header.innerLength()).isLessThanOrEqualTo(bytes.length);
                header.token();
                header.expiry();
                if (header.hasReturnToken()) {
                    header.returnToken();
                    header.returnExpiry();
                }
            }
        }
    }
}
