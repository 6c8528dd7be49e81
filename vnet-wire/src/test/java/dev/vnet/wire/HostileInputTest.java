package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property-style check of the package contract: for random bytes, random mutations and truncations
 * of real packets, random offsets and limits, in every buffer shape, {@code wrap} never throws, and
 * after a successful wrap no getter, checksum or option walk throws, every reported range lies inside
 * the wrapped one, and the buffer's position and limit are untouched.
 */
class HostileInputTest {
    private static final int ITERATIONS = 1_500;

    private static final List<byte[]> TEMPLATES = List.of(
        RealPackets.TCP_SYN, RealPackets.UDP_HELLO, RealPackets.ICMP_ECHO_REQUEST, RealPackets.ICMP_ECHO_REPLY,
        RealPackets.ICMP_PORT_UNREACHABLE, RealPackets.ARP_REQUEST,
        vnp(RealPackets.TCP_SYN), vnp(RealPackets.UDP_HELLO), vnp(RealPackets.ARP_REQUEST));

    private final EthernetFrame ethernet = new EthernetFrame();
    private final ArpPacket arp = new ArpPacket();
    private final Ipv4Packet ip = new Ipv4Packet();
    private final IcmpPacket icmp = new IcmpPacket();
    private final UdpDatagram udp = new UdpDatagram();
    private final TcpSegment tcp = new TcpSegment();
    private final VnpHeader vnp = new VnpHeader();
    private final int[] accepted = new int[7];

    /** A VNP datagram carrying the frame's IPv4 packet (the Ethernet header is not carried). */
    private static byte[] vnp(byte[] frame) {
        int ipLength = frame.length - EthernetFrame.HEADER_LENGTH;
        ByteBuffer buffer = ByteBuffer.allocate(VnpHeader.LENGTH + ipLength);
        VnpHeader.write(buffer, 0, 0x0102030405060708L, 1_800_000_000L, 0);
        buffer.put(VnpHeader.LENGTH, frame, EthernetFrame.HEADER_LENGTH, ipLength);
        return buffer.array();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 1071, 47900, 0xC0FFEE, 0xDEAD_BEEFL, -1})
    void nothingThrowsOnHostileInput(long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < ITERATIONS; i++) {
            Buffers.Kind kind = Buffers.Kind.values()[random.nextInt(Buffers.Kind.values().length)];
            ByteBuffer buffer = randomBuffer(random, kind);
            int position = buffer.position();
            int limit = buffer.limit();

            int offset;
            int length;
            switch (random.nextInt(10)) {
                case 0 -> {
                    offset = random.nextInt();
                    length = random.nextInt();
                }
                case 1 -> {
                    offset = random.nextInt(buffer.capacity() + 8) - 4;
                    length = random.nextInt(buffer.capacity() + 8) - 4;
                }
                default -> {
                    offset = random.nextInt(Math.min(8, limit) + 1);
                    length = limit - offset;
                }
            }
            exerciseAll(buffer, offset, length);
            assertThat(buffer.position()).isEqualTo(position);
            assertThat(buffer.limit()).isEqualTo(limit);
        }
        assertThat(accepted).as("every codec accepted some inputs, so the getters really ran").doesNotContain(0);
    }

    /** Random bytes, or a real packet at a random offset with a few bytes mutated and a random truncation. */
    private static ByteBuffer randomBuffer(Random random, Buffers.Kind kind) {
        if (random.nextInt(4) == 0) {
            ByteBuffer buffer = kind.allocate(random.nextInt(120));
            byte[] noise = new byte[buffer.capacity()];
            random.nextBytes(noise);
            buffer.put(0, noise);
            return buffer;
        }
        byte[] template = TEMPLATES.get(random.nextInt(TEMPLATES.size())).clone();
        int mutations = random.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            // Headers are where the interesting fields are.
            int at = random.nextInt(Math.min(template.length, 64));
            template[at] = random.nextBoolean() ? (byte) random.nextInt() : (byte) (template[at] ^ (1 << random.nextInt(8)));
        }
        int lead = random.nextInt(8);
        ByteBuffer buffer = kind.holding(template, lead);
        buffer.position(random.nextInt(buffer.capacity() + 1));
        int end = lead + template.length;
        int limit = random.nextInt(3) == 0 ? random.nextInt(end + 1) : end;
        buffer.limit(Math.max(limit, buffer.position()));
        buffer.position(Math.min(buffer.position(), buffer.limit()));
        return buffer;
    }

    private void exerciseAll(ByteBuffer buffer, int offset, int length) {
        if (vnp.wrap(buffer, offset, length)) {
            accepted[0]++;
            exerciseVnp(offset, length);
            exerciseIpv4(buffer, vnp.innerOffset(), vnp.innerLength());
        }
        exerciseEthernet(buffer, offset, length);
        exerciseIpv4(buffer, offset, length);
        exerciseArp(buffer, offset, length);
        exerciseL4(buffer, offset, length);
    }

    private void exerciseVnp(int offset, int length) {
        vnp.token();
        vnp.expiry();
        vnp.flags();
        assertWithin(vnp.innerOffset(), vnp.innerLength(), offset, length);
        assertThat(vnp.innerLength()).isGreaterThanOrEqualTo(Ipv4Packet.MIN_HEADER_LENGTH);
        if (vnp.hasReturnToken()) {
            vnp.returnToken();
            vnp.returnExpiry();
        }
    }

    private void exerciseEthernet(ByteBuffer buffer, int offset, int length) {
        if (!ethernet.wrap(buffer, offset, length)) {
            return;
        }
        accepted[1]++;
        ethernet.source(ethernet.source());
        ethernet.destination(ethernet.destination());
        ethernet.etherType(ethernet.etherType());
        MacAddress.isMulticast(ethernet.destination());
        assertWithin(ethernet.payloadOffset(), ethernet.payloadLength(), offset, length);
        int payloadOffset = ethernet.payloadOffset();
        int payloadLength = ethernet.payloadLength();
        exerciseArp(buffer, payloadOffset, payloadLength);
        exerciseIpv4(buffer, payloadOffset, payloadLength);
    }

    private void exerciseArp(ByteBuffer buffer, int offset, int length) {
        if (!arp.wrap(buffer, offset, length)) {
            return;
        }
        accepted[2]++;
        arp.operation();
        arp.senderMac();
        arp.senderIp();
        arp.targetMac();
        arp.targetIp();
    }

    private void exerciseIpv4(ByteBuffer buffer, int offset, int length) {
        if (!ip.wrap(buffer, offset, length)) {
            return;
        }
        accepted[3]++;
        ip.version();
        ip.typeOfService();
        ip.identification(ip.identification());
        ip.dontFragment();
        ip.moreFragments();
        ip.fragmentOffset();
        ip.isFragment();
        ip.ttl(ip.ttl());
        ip.protocol(ip.protocol());
        ip.source(ip.source());
        ip.destination(ip.destination());
        ip.headerChecksumValid();
        ip.computeHeaderChecksum();
        ip.updateHeaderChecksum();
        assertThat(ip.headerChecksumValid()).isTrue();
        assertThat(ip.headerLength()).isBetween(Ipv4Packet.MIN_HEADER_LENGTH, Ipv4Packet.MAX_HEADER_LENGTH);
        assertWithin(ip.payloadOffset(), ip.payloadLength(), offset, length);
        int source = ip.source();
        int destination = ip.destination();
        exerciseL4(buffer, ip.payloadOffset(), ip.payloadLength(), source, destination);
    }

    private void exerciseL4(ByteBuffer buffer, int offset, int length) {
        exerciseL4(buffer, offset, length, 0x0a00_0001, 0x0a00_0002);
    }

    private void exerciseL4(ByteBuffer buffer, int offset, int length, int source, int destination) {
        if (icmp.wrap(buffer, offset, length)) {
            accepted[4]++;
            icmp.type(icmp.type());
            icmp.code(icmp.code());
            icmp.identifier(icmp.identifier());
            icmp.sequence(icmp.sequence());
            icmp.checksumValid();
            icmp.updateChecksum();
            assertThat(icmp.checksumValid()).isTrue();
            assertWithin(icmp.payloadOffset(), icmp.payloadLength(), offset, length);
        }
        if (udp.wrap(buffer, offset, length)) {
            accepted[5]++;
            udp.sourcePort(udp.sourcePort());
            udp.destinationPort(udp.destinationPort());
            udp.lengthField(udp.lengthField());
            udp.checksumValid(source, destination);
            udp.updateChecksum(source, destination);
            assertThat(udp.checksumValid(source, destination)).isTrue();
            assertWithin(udp.payloadOffset(), udp.payloadLength(), offset, length);
        }
        if (tcp.wrap(buffer, offset, length)) {
            accepted[6]++;
            tcp.sourcePort(tcp.sourcePort());
            tcp.destinationPort(tcp.destinationPort());
            tcp.sequence(tcp.sequence());
            tcp.acknowledgment(tcp.acknowledgment());
            tcp.flags(tcp.flags());
            tcp.window(tcp.window());
            tcp.urgentPointer();
            tcp.hasFlags(TcpSegment.SYN | TcpSegment.ACK);
            for (int kind = 0; kind < 10; kind++) {
                int at = tcp.optionOffset(kind);
                if (at >= 0) {
                    assertThat(at).isBetween(tcp.offset() + TcpSegment.OPTIONS_OFFSET, tcp.payloadOffset() - 2);
                }
            }
            tcp.maximumSegmentSize();
            tcp.checksumValid(source, destination);
            tcp.updateChecksum(source, destination);
            assertThat(tcp.checksumValid(source, destination)).isTrue();
            assertThat(tcp.headerLength()).isBetween(TcpSegment.MIN_HEADER_LENGTH, TcpSegment.MAX_HEADER_LENGTH);
            assertWithin(tcp.payloadOffset(), tcp.payloadLength(), offset, length);
        }
    }

    private static void assertWithin(int innerOffset, int innerLength, int offset, int length) {
        assertThat(innerLength).isNotNegative();
        assertThat(innerOffset).isGreaterThanOrEqualTo(offset);
        assertThat((long) innerOffset + innerLength).isLessThanOrEqualTo((long) offset + length);
    }
}
