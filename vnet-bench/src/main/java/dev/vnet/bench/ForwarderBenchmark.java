package dev.vnet.bench;

import dev.vnet.dataplane.DataplaneCounters;
import dev.vnet.dataplane.Egress;
import dev.vnet.dataplane.Forwarder;
import dev.vnet.dataplane.ForwardingTable;
import dev.vnet.dataplane.RemoteHost;
import dev.vnet.dataplane.RemoteVm;
import dev.vnet.dataplane.VmPort;
import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.Libc;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.VnetHeader;
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
import java.util.concurrent.TimeUnit;

/**
 * The Java work per frame of the foundation's forwarding decision (no syscalls): a 1464-byte frame
 * from a VM to a VM on another host (parse, anti-spoofing, table lookup, encapsulation in place), and a
 * vnet datagram from the underlay to a local VM (decapsulation, checks, lookup). Guards against
 * regressions that add work or allocation per packet; run with {@code -prof gc} to see allocation.
 *
 * <p>Anchor in the same run: {@link #anchorSendtoLoopback}, one {@code sendto} of the same 1472-byte
 * datagram to a socket on 127.0.0.1 through the same FFM path. Every forwarded frame costs at least one
 * such syscall, so the Java decision should stay a small fraction of it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ForwarderBenchmark {
    private static final int FRAME = 1464;
    private Forwarder forwarder;
    private VmPort local;
    private PacketBuffer fromVm;
    private PacketBuffer fromUnderlay;
    private long sent;
    private Libc libc;
    private UdpSocket sender;
    private UdpSocket sink;
    private MemorySegment sinkAddress;

    @Setup
    public void setUp() {
        Counters counters = Counters.inMemory(256);
        local = new VmPort("a", 7, 0x02_00_00_00_00_01L, 0x0A_00_00_01, null, counters);
        RemoteHost host = new RemoteHost("h2", 0x0A_FF_00_02, VnetHeader.DEFAULT_PORT, MemorySegment.NULL);
        RemoteVm remote = new RemoteVm("b", 7, 0x02_00_00_00_00_02L, 0x0A_00_00_02, host);
        ForwardingTable table = ForwardingTable.builder().network(7, "n").local(local).remote(remote).build();
        Egress egress = new Egress() {
            @Override
            public boolean toPort(VmPort port, PacketBuffer packet, int index, int length) {
                sent += length;
                return true;
            }

            @Override
            public boolean toUnderlay(RemoteHost to, PacketBuffer packet, int index, int length) {
                sent += length;
                return true;
            }
        };
        forwarder = new Forwarder(() -> table, egress, new DataplaneCounters(counters), 1500);
        fromVm = PacketBuffer.allocate(Forwarder.HEADROOM + FRAME);
        writeFrame(fromVm, Forwarder.HEADROOM, local.mac(), remote.mac(), local.ip(), remote.ip());
        fromUnderlay = PacketBuffer.allocate(VnetHeader.LENGTH + FRAME);
        VnetHeader.write(fromUnderlay.buffer(), 0, 7);
        writeFrame(fromUnderlay, VnetHeader.LENGTH, remote.mac(), local.mac(), remote.ip(), local.ip());
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

    private static void writeFrame(PacketBuffer packet, int index, long source, long destination, int sourceIp, int destinationIp) {
        EthernetFrame frame = new EthernetFrame();
        frame.wrap(packet.buffer(), index, FRAME);
        frame.source(source);
        frame.destination(destination);
        frame.etherType(EthernetFrame.ETHER_TYPE_IPV4);
        Ipv4Packet.writeHeader(packet.buffer(), index + EthernetFrame.HEADER_LENGTH, FRAME - EthernetFrame.HEADER_LENGTH,
                1, 64, Ipv4Packet.PROTOCOL_UDP, sourceIp, destinationIp);
    }

    @Benchmark
    public long vmToRemoteHost() {
        forwarder.fromVm(local, fromVm, Forwarder.HEADROOM, FRAME);
        return sent;
    }

    /** The anchor: one syscall, nobody reads the sink (the kernel drops what overflows its buffer). */
    @Benchmark
    public int anchorSendtoLoopback() {
        return sender.send(libc, fromUnderlay, 0, VnetHeader.LENGTH + FRAME, sinkAddress);
    }

    @Benchmark
    public long underlayToVm() {
        forwarder.fromUnderlay(fromUnderlay, 0, VnetHeader.LENGTH + FRAME);
        return sent;
    }
}
