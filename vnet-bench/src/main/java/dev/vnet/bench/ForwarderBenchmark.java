package dev.vnet.bench;

import dev.vnet.dataplane.DataplaneCounters;
import dev.vnet.dataplane.InboundForwarder;
import dev.vnet.dataplane.LocalVm;
import dev.vnet.dataplane.LocalVms;
import dev.vnet.dataplane.OutboundForwarder;
import dev.vnet.dataplane.TokenGrant;
import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.Libc;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.Ipv4Packet;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Java work per packet of the VNP data plane (no syscalls): a 1456-byte IPv4 packet from a VM to a
 * VM on another host with a token in hand (checks, pair lookup, VNP header written in place), and the
 * same datagram arriving (layout and expiry checks, token found in the validation cache, Ethernet header
 * written in place). Guards against work or allocation creeping into the fast paths; run with
 * {@code -prof gc} to see allocation.
 *
 * <p>Anchor in the same run: {@link #anchorSendtoLoopback}, one {@code sendto} of the same datagram to a
 * socket on 127.0.0.1 through the same FFM path. Every forwarded packet costs at least one such syscall.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ForwarderBenchmark {
    private static final int IP_LENGTH = 1456;
    private static final int FRAME = EthernetFrame.HEADER_LENGTH + IP_LENGTH;
    private static final int HOST1 = Ipv4Address.parse("10.255.0.1");
    private static final int HOST2 = Ipv4Address.parse("10.255.0.2");
    private OutboundForwarder outbound;
    private InboundForwarder inbound;
    private PacketBuffer fromVm;
    private PacketBuffer fromUnderlay;
    private byte[] frame;
    private byte[] datagram;
    private CountingEgress egress;
    private Libc libc;
    private UdpSocket sender;
    private UdpSocket sink;
    private MemorySegment sinkAddress;

    @Setup
    public void setUp() {
        Counters counters = Counters.inMemory(256);
        DataplaneCounters dataplane = new DataplaneCounters(counters);
        byte[] keyA = new byte[32];
        byte[] keyB = new byte[32];
        keyB[0] = 1;
        LocalVm a = new LocalVm("a", 7, Ipv4Address.parse("10.0.0.1"), 24, 0x02_00_00_00_00_01L, 47901, keyA, null, null, counters);
        LocalVm b = new LocalVm("b", 7, Ipv4Address.parse("10.0.0.2"), 24, 0x02_00_00_00_00_02L, 47901, keyB, null, null, counters);
        long expiry = SystemEpochClock.INSTANCE.time() / 1000 + 600;
        long token = new VnpToken(keyB).compute(HOST1, 47901, a.address(), b.address(), expiry);
        TokenGrant grant = new TokenGrant(HOST2, 47901, token, expiry);
        egress = new CountingEgress();
        outbound = new OutboundForwarder(a, new LocalVms(List.of(a)), (vm, destination) -> CompletableFuture.completedFuture(grant),
                egress, () -> egress, dataplane, SystemEpochClock.INSTANCE, 1500);
        LocalVm bAsLocal = b;
        OutboundForwarder bOutbound = new OutboundForwarder(bAsLocal, new LocalVms(List.of(bAsLocal)),
                (vm, destination) -> new CompletableFuture<>(), egress, () -> egress, dataplane, SystemEpochClock.INSTANCE, 1500);
        inbound = new InboundForwarder(bAsLocal, bOutbound, egress, dataplane, SystemEpochClock.INSTANCE, 5, 600);

        frame = new byte[FRAME];
        java.nio.ByteBuffer f = java.nio.ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(f, 0, OutboundForwarder.GATEWAY_MAC, a.mac(), EthernetFrame.ETHER_TYPE_IPV4);
        Ipv4Packet.writeHeader(f, EthernetFrame.HEADER_LENGTH, IP_LENGTH, 1, 64, Ipv4Packet.PROTOCOL_UDP, a.address(), b.address());
        fromVm = PacketBuffer.allocate(OutboundForwarder.HEADROOM + FRAME + 64);
        for (int i = 0; i < 5; i++) { // establish the pair and use up the return-token packets
            fromVm.buffer().put(OutboundForwarder.HEADROOM, frame);
            outbound.fromVm(fromVm, OutboundForwarder.HEADROOM, FRAME);
        }
        datagram = egress.lastUnderlayBytes();
        fromUnderlay = PacketBuffer.allocate(datagram.length);
        fromUnderlay.buffer().put(0, datagram);
        underlayToVm();
        long drops = counters.reader().snapshot().entrySet().stream()
                .filter(e -> e.getKey().startsWith("drop.")).mapToLong(java.util.Map.Entry::getValue).sum();
        if (drops != 0 || counters.reader().value("port.b.tx_packets") != 1) {
            throw new IllegalStateException("the benchmark's packets are not forwarded: " + counters.reader().snapshot());
        }

        libc = new Libc();
        int loopback = Ipv4Address.parse("127.0.0.1");
        sink = UdpSocket.bind(loopback, 0);
        sender = UdpSocket.bind(loopback, 0);
        sinkAddress = UdpSocket.socketAddress(Arena.ofAuto(), loopback, sink.localPort());
    }

    @TearDown
    public void tearDown() {
        sender.close();
        sink.close();
    }

    @Benchmark
    public long vmToRemoteHost() {
        // The VNP header overwrites the Ethernet header in place, so each packet starts from a fresh copy.
        fromVm.buffer().put(OutboundForwarder.HEADROOM, frame, 0, EthernetFrame.HEADER_LENGTH);
        outbound.fromVm(fromVm, OutboundForwarder.HEADROOM, FRAME);
        return egress.bytes;
    }

    @Benchmark
    public long underlayToVm() {
        // Delivery writes the Ethernet header over the VNP header in place: restore those 16 bytes.
        fromUnderlay.buffer().put(0, datagram, 0, 16);
        inbound.fromUnderlay(fromUnderlay, 0, datagram.length, HOST1, 47901);
        return egress.bytes;
    }

    /** The anchor: one syscall; nobody reads the sink (the kernel drops what overflows its buffer). */
    @Benchmark
    public int anchorSendtoLoopback() {
        return sender.send(libc, fromVm, OutboundForwarder.HEADROOM - 2, datagram.length, sinkAddress);
    }
}
