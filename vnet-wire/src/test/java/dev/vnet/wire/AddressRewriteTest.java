package dev.vnet.wire;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every incremental update must equal a checksum computed from scratch over the rewritten packet:
 * seeded random TCP, UDP and ICMP echo packets of random sizes, rewritten in each direction.
 */
class AddressRewriteTest {
    private static final int IP = 6; // odd offset inside the buffer: no alignment assumptions

    static Stream<Integer> seeds() {
        return IntStream.range(0, 300).boxed();
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void incrementalChecksumsEqualRecomputedOnes(int seed) {
        Random random = new Random(seed);
        int protocol = switch (random.nextInt(3)) {
            case 0 -> Ipv4Packet.PROTOCOL_TCP;
            case 1 -> Ipv4Packet.PROTOCOL_UDP;
            default -> Ipv4Packet.PROTOCOL_ICMP;
        };
        ByteBuffer buffer = randomPacket(random, protocol, random.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        int newAddress = random.nextInt();
        int newPort = random.nextInt(65536);
        assertThat(AddressRewrite.hasPorts(buffer, IP, 20, Bytes.u16(buffer, IP + 2))).isTrue();
        switch (random.nextInt(4)) {
            case 0 -> AddressRewrite.destination(buffer, IP, newAddress, newPort, false);
            case 1 -> AddressRewrite.source(buffer, IP, newAddress, newPort, false);
            case 2 -> AddressRewrite.destinationAddress(buffer, IP, newAddress, false);
            default -> AddressRewrite.sourceAddress(buffer, IP, newAddress, false);
        }
        assertChecksumsValid(buffer, protocol);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void partialChecksumStaysThePseudoHeaderSumOfTheNewAddresses(int seed) {
        Random random = new Random(seed);
        int protocol = random.nextBoolean() ? Ipv4Packet.PROTOCOL_TCP : Ipv4Packet.PROTOCOL_UDP;
        ByteBuffer buffer = randomPacket(random, protocol, ByteOrder.BIG_ENDIAN);
        int checksumAt = IP + 20 + (protocol == Ipv4Packet.PROTOCOL_TCP ? 16 : 6);
        int l4Length = Bytes.u16(buffer, IP + 2) - 20;
        Bytes.put16(buffer, checksumAt, partialSum(buffer, protocol, l4Length));
        int newAddress = random.nextInt();
        if (random.nextBoolean()) {
            AddressRewrite.destinationAddress(buffer, IP, newAddress, true);
        } else {
            AddressRewrite.sourceAddress(buffer, IP, newAddress, true);
        }
        assertThat(Bytes.u16(buffer, checksumAt)).isEqualTo(partialSum(buffer, protocol, l4Length));
        assertThat(InternetChecksum.verifies(buffer, IP, 20, 0)).isTrue();
    }

    @org.junit.jupiter.api.Test
    void udpWithoutChecksumKeepsNone() {
        ByteBuffer buffer = randomPacket(new Random(7), Ipv4Packet.PROTOCOL_UDP, ByteOrder.BIG_ENDIAN);
        Bytes.put16(buffer, IP + 20 + 6, 0);
        AddressRewrite.destination(buffer, IP, 0x0A000002, 8080, false);
        assertThat(Bytes.u16(buffer, IP + 20 + 6)).isZero();
        assertThat(Bytes.u16(buffer, IP + 20 + 2)).isEqualTo(8080);
        assertThat(InternetChecksum.verifies(buffer, IP, 20, 0)).isTrue();
    }

    @org.junit.jupiter.api.Test
    void fragmentsHaveNoPortsToRewrite() {
        ByteBuffer buffer = randomPacket(new Random(8), Ipv4Packet.PROTOCOL_TCP, ByteOrder.BIG_ENDIAN);
        Bytes.put16(buffer, IP + 6, Ipv4Packet.FLAG_MORE_FRAGMENTS);
        assertThat(AddressRewrite.hasPorts(buffer, IP, 20, Bytes.u16(buffer, IP + 2))).isFalse();
        Bytes.put16(buffer, IP + 6, 3);
        assertThat(AddressRewrite.hasPorts(buffer, IP, 20, Bytes.u16(buffer, IP + 2))).isFalse();
    }

    private static int partialSum(ByteBuffer buffer, int protocol, int l4Length) {
        int sum = InternetChecksum.pseudoHeaderSumIpv4(Bytes.i32(buffer, IP + 12), Bytes.i32(buffer, IP + 16), protocol, l4Length);
        return ~InternetChecksum.fold(sum) & 0xFFFF;
    }

    private static ByteBuffer randomPacket(Random random, int protocol, ByteOrder order) {
        int l4Length = switch (protocol) {
            case Ipv4Packet.PROTOCOL_TCP -> 20 + random.nextInt(200);
            case Ipv4Packet.PROTOCOL_UDP -> 8 + random.nextInt(200);
            default -> 8 + random.nextInt(100);
        };
        ByteBuffer buffer = ByteBuffer.allocate(IP + 20 + l4Length + 3).order(order);
        Ipv4Packet.writeHeader(buffer, IP, 20 + l4Length, random.nextInt(65536), 64, protocol, random.nextInt(), random.nextInt());
        int l4 = IP + 20;
        for (int i = 0; i < l4Length; i++) {
            buffer.put(l4 + i, (byte) random.nextInt());
        }
        if (protocol == Ipv4Packet.PROTOCOL_UDP) {
            Bytes.put16(buffer, l4 + 4, l4Length);
        }
        if (protocol == Ipv4Packet.PROTOCOL_ICMP) {
            Bytes.put8(buffer, l4, random.nextBoolean() ? IcmpPacket.TYPE_ECHO_REQUEST : IcmpPacket.TYPE_ECHO_REPLY);
            Bytes.put8(buffer, l4 + 1, 0);
        }
        writeL4Checksum(buffer, protocol, l4Length);
        return buffer;
    }

    private static void writeL4Checksum(ByteBuffer buffer, int protocol, int l4Length) {
        int l4 = IP + 20;
        int at = l4 + switch (protocol) {
            case Ipv4Packet.PROTOCOL_TCP -> 16;
            case Ipv4Packet.PROTOCOL_UDP -> 6;
            default -> 2;
        };
        Bytes.put16(buffer, at, 0);
        int pseudo = protocol == Ipv4Packet.PROTOCOL_ICMP ? 0
                : InternetChecksum.pseudoHeaderSumIpv4(Bytes.i32(buffer, IP + 12), Bytes.i32(buffer, IP + 16), protocol, l4Length);
        int checksum = InternetChecksum.fold(pseudo + InternetChecksum.sum(buffer, l4, l4Length));
        if (protocol == Ipv4Packet.PROTOCOL_UDP && checksum == 0) {
            checksum = 0xFFFF;
        }
        Bytes.put16(buffer, at, checksum);
    }

    private static void assertChecksumsValid(ByteBuffer buffer, int protocol) {
        assertThat(InternetChecksum.verifies(buffer, IP, 20, 0)).as("IPv4 header checksum").isTrue();
        int l4Length = Bytes.u16(buffer, IP + 2) - 20;
        int pseudo = protocol == Ipv4Packet.PROTOCOL_ICMP ? 0
                : InternetChecksum.pseudoHeaderSumIpv4(Bytes.i32(buffer, IP + 12), Bytes.i32(buffer, IP + 16), protocol, l4Length);
        assertThat(InternetChecksum.verifies(buffer, IP + 20, l4Length, pseudo)).as("L4 checksum").isTrue();
        if (protocol == Ipv4Packet.PROTOCOL_UDP) {
            assertThat(Bytes.u16(buffer, IP + 20 + 6)).as("UDP never writes 0 for a computed checksum").isNotZero();
        }
    }
}
