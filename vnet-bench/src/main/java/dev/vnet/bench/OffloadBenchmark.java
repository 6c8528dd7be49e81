package dev.vnet.bench;

import dev.vnet.dataplane.DataplaneCounters;
import dev.vnet.dataplane.InboundForwarder;
import dev.vnet.dataplane.LocalVm;
import dev.vnet.dataplane.LocalVms;
import dev.vnet.dataplane.OutboundForwarder;
import dev.vnet.dataplane.TokenGrant;
import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.InternetChecksum;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.TcpSegment;
import dev.vnet.wire.VirtioNetHeader;
import dev.vnet.wire.VnpToken;
import org.agrona.concurrent.SystemEpochClock;
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

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Java work per 64 KB TCP super-frame on the offload paths, no syscalls: outbound, checks + software
 * TSO into 43 segments + a VNP header on each (what precedes one or two {@code sendmsg} calls);
 * inbound, a {@code UDP_GRO} batch of those 43 datagrams checked one by one (cached token) and coalesced
 * back into one super-frame (what precedes one TAP {@code write}). Divide by 60 KB for the cost per byte:
 * at 10 Gbit/s a core has ~52 µs per super-frame.
 *
 * <p>Anchor in the same run: {@link #anchorCopySuperFrame}, one copy of the 64 KB, the least any
 * userspace forwarder that copies pays.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class OffloadBenchmark {
    /** Fits one segmented send (a UDP send carries at most 65 507 bytes), so one GRO batch holds it all. */
    private static final int PAYLOAD = 60_000;
    private static final int MSS = 1404;
    private static final int HOST1 = Ipv4Address.parse("10.255.0.1");
    private static final int HOST2 = Ipv4Address.parse("10.255.0.2");
    private OutboundForwarder outbound;
    private InboundForwarder inbound;
    private Counters counters;
    private PacketBuffer fromVm;
    private PacketBuffer batch;
    private PacketBuffer copyTarget;
    private byte[] frameHeaders;
    private byte[] datagrams;
    private int frameLength;
    private int segmentSize;
    private CountingEgress egress;

    @Setup
    public void setUp() {
        counters = Counters.inMemory(256);
        DataplaneCounters dataplane = new DataplaneCounters(counters);
        byte[] keyB = new byte[32];
        keyB[0] = 1;
        LocalVm a = new LocalVm("a", 7, Ipv4Address.parse("10.0.0.1"), 24, 0x02_00_00_00_00_01L, 47901, new byte[32], null, null, true, counters);
        LocalVm b = new LocalVm("b", 7, Ipv4Address.parse("10.0.0.2"), 24, 0x02_00_00_00_00_02L, 47901, keyB, null, null, true, counters);
        long expiry = SystemEpochClock.INSTANCE.time() / 1000 + 600;
        TokenGrant grant = new TokenGrant(HOST2, 47901, new VnpToken(keyB).compute(HOST1, 47901, a.address(), b.address(), expiry), expiry);
        egress = new CountingEgress();
        outbound = new OutboundForwarder(a, new LocalVms(List.of(a)), (vm, d) -> CompletableFuture.completedFuture(grant),
                egress, () -> egress, dataplane, SystemEpochClock.INSTANCE, 1500);
        OutboundForwarder bOutbound = new OutboundForwarder(b, new LocalVms(List.of(b)), (vm, d) -> new CompletableFuture<>(),
                egress, () -> egress, dataplane, SystemEpochClock.INSTANCE, 1500);
        inbound = new InboundForwarder(b, bOutbound, egress, dataplane, SystemEpochClock.INSTANCE, 5, 600);

        int tcpHeader = 32;
        frameLength = 14 + 20 + tcpHeader + PAYLOAD;
        fromVm = PacketBuffer.allocate(OutboundForwarder.HEADROOM + frameLength + 64);
        ByteBuffer f = fromVm.buffer();
        int frame = OutboundForwarder.HEADROOM;
        VirtioNetHeader.write(f, frame - VirtioNetHeader.LENGTH, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4,
                14 + 20 + tcpHeader, MSS, 34, 16);
        EthernetFrame.writeHeader(f, frame, OutboundForwarder.GATEWAY_MAC, a.mac(), EthernetFrame.ETHER_TYPE_IPV4);
        Ipv4Packet.writeHeader(f, frame + 14, 20 + tcpHeader + PAYLOAD, 1, 64, Ipv4Packet.PROTOCOL_TCP, a.address(), b.address());
        TcpSegment.writeHeader(f, frame + 34, 40000, 5201, 1, 1, TcpSegment.ACK, 500);
        f.put(frame + 34 + 12, (byte) ((tcpHeader / 4) << 4));
        f.put(frame + 34 + 20, new byte[]{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2});
        f.putShort(frame + 34 + 16, (short) InternetChecksum.pseudoHeaderSumIpv4(a.address(), b.address(), 6, tcpHeader + PAYLOAD));
        frameHeaders = new byte[VirtioNetHeader.LENGTH + 14 + 20 + tcpHeader];
        f.get(frame - VirtioNetHeader.LENGTH, frameHeaders);
        outboundSuperFrame(); // the pair's first: waits for its token (and overflows the 8-packet queue)
        long dropsBefore = drops();
        outboundSuperFrame(); // with the token: one segmented send, captured

        datagrams = egress.lastUnderlayBytes();
        segmentSize = egress.lastSegmentSize;
        batch = PacketBuffer.allocate(InboundForwarder.HEADROOM + datagrams.length);
        batch.buffer().put(InboundForwarder.HEADROOM, datagrams);
        copyTarget = PacketBuffer.allocate(70_000);
        inboundBatch();
        Map<String, Long> values = counters.reader().snapshot();
        if (drops() != dropsBefore || values.get("offload.gro_frames") < 1) {
            throw new IllegalStateException("the benchmark's super-frames are not forwarded: " + values);
        }
    }

    private long drops() {
        return counters.reader().snapshot().entrySet().stream()
                .filter(e -> e.getKey().startsWith("drop.")).mapToLong(Map.Entry::getValue).sum();
    }

    @Benchmark
    public long outboundSuperFrame() {
        // Forwarding writes VNP headers over the frame's own headers: restore them.
        fromVm.buffer().put(OutboundForwarder.HEADROOM - VirtioNetHeader.LENGTH, frameHeaders);
        outbound.fromVm(fromVm, OutboundForwarder.HEADROOM, frameLength);
        return egress.bytes;
    }

    @Benchmark
    public long inboundBatch() {
        inbound.fromUnderlayBatch(batch, InboundForwarder.HEADROOM, datagrams.length, segmentSize, HOST1, 47901);
        // Delivery writes headers in place over the batch: restore it for the next round.
        batch.buffer().put(InboundForwarder.HEADROOM, datagrams);
        return egress.bytes;
    }

    /** The anchor: copying the 64 KB once. */
    @Benchmark
    public long anchorCopySuperFrame() {
        copyTarget.buffer().put(0, fromVm.buffer(), OutboundForwarder.HEADROOM, frameLength);
        return copyTarget.buffer().get(100);
    }
}
