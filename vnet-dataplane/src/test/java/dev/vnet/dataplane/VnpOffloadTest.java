package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.InternetChecksum;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.TcpSegment;
import dev.vnet.wire.VirtioNetHeader;
import dev.vnet.wire.VnpHeader;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The offload data plane between two simulated hosts whose TAPs carry virtio-net headers: TCP
 * super-frames out, segments over the underlay in segmented sends, coalesced super-frames in.
 */
class VnpOffloadTest {
    private static final int NETWORK = 100;
    private static final int HOST1 = Ipv4Address.parse("10.255.0.1");
    private static final int HOST2 = Ipv4Address.parse("10.255.0.2");
    private static final int A = Ipv4Address.parse("10.0.0.11");
    private static final int B = Ipv4Address.parse("10.0.0.12");
    private static final int C = Ipv4Address.parse("10.0.0.13");
    private static final int MSS = 1456 - 20 - 32; // the VM MTU less IPv4 and TCP (with timestamps) headers
    private static final byte[] TIMESTAMPS = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};

    private final CachedEpochClock clock = new CachedEpochClock();
    private final java.util.Map<Long, TestHost.Receiver> underlay = new java.util.HashMap<>();
    private InMemoryTokenAuthority registry;
    private TestHost host1;
    private TestHost host2;
    private LocalVm a;
    private LocalVm b;
    private LocalVm c;

    @BeforeEach
    void setUp() {
        clock.update(1_800_000_000_000L);
        registry = new InMemoryTokenAuthority(clock);
        host1 = new TestHost(HOST1, underlay);
        host2 = new TestHost(HOST2, underlay);
        host1.offloads = true;
        host2.offloads = true;
        a = host1.addVm("a", NETWORK, A, 1, 47901, registry);
        c = host1.addVm("c", NETWORK, C, 3, 47902, registry);
        b = host2.addVm("b", NETWORK, B, 2, 47901, registry);
        host1.start(registry, clock);
        host2.start(registry, clock);
    }

    /** An Ethernet + IPv4 + TCP super-frame with a partial checksum, as a VM's kernel hands it over. */
    private static byte[] superFrame(LocalVm from, int to, int payload, long sequence, Random random) {
        int tcpHeader = 20 + TIMESTAMPS.length;
        byte[] frame = new byte[14 + 20 + tcpHeader + payload];
        ByteBuffer f = ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(f, 0, OutboundForwarder.GATEWAY_MAC, from.mac(), EthernetFrame.ETHER_TYPE_IPV4);
        Ipv4Packet.writeHeader(f, 14, 20 + tcpHeader + payload, 77, 64, Ipv4Packet.PROTOCOL_TCP, from.address(), to);
        TcpSegment.writeHeader(f, 34, 40000, 5201, sequence, 99, TcpSegment.ACK | TcpSegment.PSH, 500);
        f.put(34 + 12, (byte) ((tcpHeader / 4) << 4));
        f.put(34 + 20, TIMESTAMPS);
        f.putShort(34 + 16, (short) InternetChecksum.pseudoHeaderSumIpv4(from.address(), to, 6, tcpHeader + payload));
        byte[] data = new byte[payload];
        random.nextBytes(data);
        f.put(34 + tcpHeader, data);
        return frame;
    }

    private static byte[] tsoHeader(int mss) {
        byte[] header = new byte[VirtioNetHeader.LENGTH];
        VirtioNetHeader.write(ByteBuffer.wrap(header), 0, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4,
                14 + 20 + 32, mss, 14 + 20, 16);
        return header;
    }

    private static byte[] csumHeader() {
        byte[] header = new byte[VirtioNetHeader.LENGTH];
        VirtioNetHeader.write(ByteBuffer.wrap(header), 0, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_NONE, 0, 0, 34, 16);
        return header;
    }

    private void establish() {
        host1.fromVm("a", csumHeader(), superFrame(a, B, 10, 1, new Random(0)));
        host2.delivered.clear();
        host1.sent.clear();
        host1.segmentedSends = 0;
        groSegmentsBefore = host2.value("offload.gro_segments");
    }

    private long groSegmentsBefore;

    private long groSegments() {
        return host2.value("offload.gro_segments") - groSegmentsBefore;
    }

    @Test
    void aSuperFrameCrossesAsSegmentsAndArrivesAsOneSuperFrame() {
        establish();
        byte[] frame = superFrame(a, B, 40_000, 0xFFFF_0000L, new Random(1));

        host1.fromVm("a", tsoHeader(MSS), frame);

        int segments = (40_000 + MSS - 1) / MSS;
        assertThat(host1.segmentedSends).isEqualTo(1);
        assertThat(host1.sent).hasSize(segments).allSatisfy(d -> {
            assertThat(d.bytes().length).isLessThanOrEqualTo(1500 - 28);
            VnpHeader header = new VnpHeader();
            assertThat(header.wrap(ByteBuffer.wrap(d.bytes()), 0, d.bytes().length)).isTrue();
            assertThat(header.flags() & VnpHeader.FLAG_CHECKSUM_PARTIAL).isNotZero();
        });
        assertThat(host2.delivered).as("one write for the whole super-frame").singleElement().satisfies(f -> {
            ByteBuffer bytes = ByteBuffer.wrap(f.bytes());
            VirtioNetHeader virtio = new VirtioNetHeader();
            virtio.wrap(bytes, 0, f.bytes().length);
            assertThat(virtio.gsoType()).isEqualTo(VirtioNetHeader.GSO_TCPV4);
            assertThat(virtio.gsoSize()).isEqualTo(MSS);
            assertThat(virtio.needsChecksum()).isTrue();
            assertThat(bytes.getLong(10) >>> 16).as("destination MAC").isEqualTo(b.mac());
            // Byte for byte the frame the VM sent, but for the MACs and the IPv4 header checksum.
            byte[] sentIp = Arrays.copyOfRange(frame, 14, frame.length);
            byte[] arrivedIp = Arrays.copyOfRange(f.bytes(), 24, f.bytes().length);
            sentIp[10] = sentIp[11] = arrivedIp[10] = arrivedIp[11] = 0;
            assertThat(arrivedIp).isEqualTo(sentIp);
        });
        assertThat(groSegments()).isEqualTo(segments);
        assertThat(host2.value("token.validations")).as("one HMAC for the pair, on its first packet").isEqualTo(1);
    }

    @Test
    void aFullSixtyFourKilobyteSuperFrameNeedsTwoSendsUnderTheUdpLimit() {
        establish();
        host1.fromVm("a", tsoHeader(MSS), superFrame(a, B, 65_000, 1, new Random(2)));
        assertThat(host1.segmentedSends).isEqualTo(2);
        assertThat(host1.sent).hasSize((65_000 + MSS - 1) / MSS);
        assertThat(groSegments()).isEqualTo(host1.sent.size());
        assertThat(host2.counters.drops(DropReason.BAD_TOKEN)).isZero();
    }

    @Test
    void aForgedDatagramInsideABatchIsDroppedAndTheRestDelivered() {
        establish();
        host2.deliverUnderlay = true;
        host1.deliverUnderlay = false;
        TestHost.Receiver receiver = host1.receiverAt(HOST2, b.port());
        host1.fromVm("a", tsoHeader(MSS), superFrame(a, B, 5 * MSS, 1, new Random(3)));
        byte[] batch = new byte[0];
        for (TestHost.Datagram d : host1.sent) {
            byte[] bytes = d.bytes().clone();
            if (batch.length == 2 * bytes.length) {
                ByteBuffer.wrap(bytes).putLong(VnpHeader.TOKEN_OFFSET, 0x0BAD_0BAD_0BAD_0BADL); // the third one
            }
            byte[] grown = Arrays.copyOf(batch, batch.length + bytes.length);
            System.arraycopy(bytes, 0, grown, batch.length, bytes.length);
            batch = grown;
        }
        int segmentSize = host1.sent.getFirst().bytes().length;

        receiver.host().receiveBatch(b, batch, segmentSize, HOST1, a.port());

        assertThat(host2.counters.drops(DropReason.BAD_TOKEN)).isEqualTo(1);
        assertThat(groSegments()).isEqualTo(4);
        // The gap splits the run: two super-frames, neither containing the forged bytes.
        assertThat(host2.delivered).hasSize(2);
    }

    @Test
    void aPartialChecksumIsDeliveredAsPartialOrCompletedForATapWithoutHeaders() {
        establish();
        byte[] frame = superFrame(a, B, 300, 5, new Random(4));
        host1.fromVm("a", csumHeader(), frame);
        assertThat(host2.delivered).singleElement().satisfies(f -> {
            VirtioNetHeader virtio = new VirtioNetHeader();
            virtio.wrap(ByteBuffer.wrap(f.bytes()), 0, 10);
            assertThat(virtio.needsChecksum()).isTrue();
            assertThat(virtio.gsoType()).isEqualTo(VirtioNetHeader.GSO_NONE);
            assertThat(virtio.checksumStart()).isEqualTo(34);
            assertThat(virtio.checksumOffset()).isEqualTo(16);
        });

        // The same datagram at a receiver whose TAP has no virtio header: it must complete the checksum.
        TestHost plain = new TestHost(Ipv4Address.parse("10.255.0.3"), underlay);
        LocalVm d = plain.vm("d", NETWORK, B, 0x02_56_4E_00_00_09L, 47950, keyOf("b"));
        plain.start(registry, clock);
        plain.receive(d, host1.sent.getLast().bytes(), HOST1, a.port());
        assertThat(plain.delivered).singleElement().satisfies(f -> {
            ByteBuffer bytes = ByteBuffer.wrap(f.bytes());
            int tcpLength = f.bytes().length - 14 - 20;
            assertThat(InternetChecksum.verifies(bytes, 34, tcpLength,
                    InternetChecksum.pseudoHeaderSumIpv4(A, B, 6, tcpLength))).as("completed checksum").isTrue();
        });
    }

    private byte[] keyOf(String vm) {
        return host2.vms.get(vm).key();
    }

    @Test
    void sameHostSuperFramesAndArpRepliesKeepTheirVirtioHeader() {
        host1.fromVm("a", tsoHeader(MSS), superFrame(a, C, 20_000, 1, new Random(5)));
        assertThat(host1.delivered).singleElement().satisfies(f -> {
            assertThat(f.vm()).isSameAs(c);
            VirtioNetHeader virtio = new VirtioNetHeader();
            virtio.wrap(ByteBuffer.wrap(f.bytes()), 0, 10);
            assertThat(virtio.gsoType()).isEqualTo(VirtioNetHeader.GSO_TCPV4);
            assertThat(f.bytes()).hasSize(10 + 14 + 20 + 32 + 20_000);
        });
        host1.delivered.clear();
        byte[] arp = VnpForwardingTest.arpRequest(a, B);
        host1.fromVm("a", new byte[10], arp);
        assertThat(host1.delivered).singleElement().satisfies(f -> {
            assertThat(f.bytes()).hasSize(10 + 42);
            assertThat(Arrays.copyOf(f.bytes(), 10)).containsOnly(0);
        });
    }

    @Test
    void theOffloadFastPathsAllocateNothingPerSuperFrame() {
        establish();
        host1.deliverUnderlay = false;
        byte[] frame = superFrame(a, B, 60_000, 1, new Random(6));
        byte[] header = tsoHeader(MSS);
        PacketBuffer buffer = PacketBuffer.allocate(OutboundForwarder.HEADROOM + frame.length + 64);
        OutboundForwarder out = host1.outbound.get("a");
        host1.fromVm("a", header, frame);
        byte[] batch = new byte[0];
        for (TestHost.Datagram d : host1.sent) {
            byte[] grown = Arrays.copyOf(batch, batch.length + d.bytes().length);
            System.arraycopy(d.bytes(), 0, grown, batch.length, d.bytes().length);
            batch = grown;
        }
        int segmentSize = host1.sent.getFirst().bytes().length;
        PacketBuffer inBuffer = PacketBuffer.allocate(InboundForwarder.HEADROOM + batch.length);
        InboundForwarder in = host2.inbound.get("b");
        Egress discard = new DiscardingEgress();
        OutboundForwarder quietOut = new OutboundForwarder(a, new LocalVms(java.util.List.of(a, c)), registry, discard, () -> discard,
                host1.counters, clock, 1500);
        InboundForwarder quietIn = new InboundForwarder(b, host2.outbound.get("b"), discard, host2.counters, clock, 5, 600);
        quietOut.fromVm(load(buffer, header, frame), OutboundForwarder.HEADROOM, frame.length); // the pair's first packet
        final byte[] datagrams = batch;
        Runnable round = () -> {
            quietOut.fromVm(load(buffer, header, frame), OutboundForwarder.HEADROOM, frame.length);
            inBuffer.buffer().put(InboundForwarder.HEADROOM, datagrams);
            quietIn.fromUnderlayBatch(inBuffer, InboundForwarder.HEADROOM, datagrams.length, segmentSize, HOST1, a.port());
        };
        for (int i = 0; i < 3_000; i++) {
            round.run();
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1_000; i++) {
            round.run();
        }
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).as("bytes for 1,000 super-frames each way").isLessThan(1024);
        assertThat(in).isNotNull();
        assertThat(out).isNotNull();
    }

    private static PacketBuffer load(PacketBuffer buffer, byte[] header, byte[] frame) {
        buffer.buffer().put(OutboundForwarder.HEADROOM - header.length, header);
        buffer.buffer().put(OutboundForwarder.HEADROOM, frame);
        return buffer;
    }
}
