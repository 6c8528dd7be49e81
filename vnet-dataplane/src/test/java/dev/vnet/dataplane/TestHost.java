package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.PacketBuffer;
import org.agrona.concurrent.EpochClock;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A simulated host for data-plane tests: local VMs with their forwarders, on an in-memory underlay
 * (shared by the test's hosts) that hands each datagram to the inbound forwarder of the VM owning the
 * destination (host, port), with the sending VM's (host, port) as the source, exactly as the kernel
 * would.
 */
final class TestHost {
    /** What a VM's TAP received. */
    record Frame(LocalVm vm, byte[] bytes) {
    }

    /** What left on the underlay. */
    record Datagram(LocalVm source, int host, int port, byte[] bytes) {
    }


    record Receiver(TestHost host, LocalVm vm) {
    }

    final int address;
    /** Which host and VM own each (underlay address, port): one map per test, shared by its hosts. */
    private final Map<Long, Receiver> underlay;
    final Counters counterFile = Counters.inMemory(512);
    final DataplaneCounters counters = new DataplaneCounters(counterFile);
    final List<Frame> delivered = new ArrayList<>();
    final List<Datagram> sent = new ArrayList<>();
    final Map<String, OutboundForwarder> outbound = new HashMap<>();
    final Map<String, InboundForwarder> inbound = new HashMap<>();
    final Map<String, LocalVm> vms = new HashMap<>();
    boolean deliverUnderlay = true;
    private final List<LocalVm> vmList = new ArrayList<>();

    TestHost(int address, Map<Long, Receiver> underlay) {
        this.address = address;
        this.underlay = underlay;
    }

    /** Whether this host's TAPs carry virtio-net headers. */
    boolean offloads;

    LocalVm vm(String name, int network, int vmAddress, long mac, int port, byte[] key) {
        LocalVm vm = new LocalVm(name, network, vmAddress, 24, mac, port, key, null, null, offloads, counterFile);
        vmList.add(vm);
        vms.put(name, vm);
        underlay.put(route(address, port), new Receiver(this, vm));
        return vm;
    }

    /** A VM with a key drawn from seed {@code n} and MAC ...{@code n}, known to {@code registry} too. */
    LocalVm addVm(String name, int network, int vmAddress, int n, int port, InMemoryTokenAuthority registry) {
        byte[] key = new byte[32];
        new Random(n).nextBytes(key);
        registry.add(new InMemoryTokenAuthority.Vm(name, network, vmAddress, address, port, key));
        return vm(name, network, vmAddress, 0x02_56_4E_00_00_00L + n, port, key);
    }

    /** Who receives at {@code host:port} on this host's underlay, or null. */
    Receiver receiverAt(int host, int port) {
        return underlay.get(route(host, port));
    }

    /** Builds the forwarders once all VMs are added. */
    TestHost start(TokenSource tokens, EpochClock clock) {
        LocalVms locals = new LocalVms(vmList);
        for (LocalVm vm : vmList) {
            OutboundForwarder out = new OutboundForwarder(vm, locals, tokens, egress, () -> egress, counters, clock, 1500);
            outbound.put(vm.name(), out);
            inbound.put(vm.name(), new InboundForwarder(vm, out, egress, counters, clock, 5, 600));
        }
        return this;
    }

    static long route(int host, int port) {
        return ((long) host << 16) | port;
    }

    final Egress egress = new Egress() {
        @Override
        public boolean toVm(LocalVm vm, PacketBuffer packet, int index, int length) {
            delivered.add(new Frame(vm, copy(packet, index, length)));
            return true;
        }

        @Override
        public boolean toUnderlay(LocalVm source, MemorySegment destination, PacketBuffer packet, int index, int length) {
            int host = destination.get(JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN), 4);
            int port = ((destination.get(JAVA_BYTE, 2) & 0xFF) << 8) | (destination.get(JAVA_BYTE, 3) & 0xFF);
            byte[] bytes = copy(packet, index, length);
            sent.add(new Datagram(source, host, port, bytes));
            Receiver receiver = underlay.get(route(host, port));
            if (deliverUnderlay && receiver != null) {
                receiver.host().receive(receiver.vm(), bytes, address, source.port());
            }
            return true;
        }

        /** Records each segment as a datagram, and hands the whole run over at once, as UDP_GRO would. */
        @Override
        public boolean toUnderlaySegmented(LocalVm source, MemorySegment destination, PacketBuffer packet, int index,
                                           int length, int segmentSize) {
            int host = destination.get(JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN), 4);
            int port = ((destination.get(JAVA_BYTE, 2) & 0xFF) << 8) | (destination.get(JAVA_BYTE, 3) & 0xFF);
            byte[] bytes = copy(packet, index, length);
            for (int at = 0; at < length; at += segmentSize) {
                sent.add(new Datagram(source, host, port, java.util.Arrays.copyOfRange(bytes, at, Math.min(length, at + segmentSize))));
            }
            segmentedSends++;
            Receiver receiver = underlay.get(route(host, port));
            if (deliverUnderlay && receiver != null) {
                receiver.host().receiveBatch(receiver.vm(), bytes, segmentSize, address, source.port());
            }
            return true;
        }
    };

    int segmentedSends;

    void receiveBatch(LocalVm vm, byte[] datagrams, int segmentSize, int sourceHost, int sourcePort) {
        PacketBuffer buffer = PacketBuffer.allocate(InboundForwarder.HEADROOM + datagrams.length + 1);
        buffer.buffer().put(InboundForwarder.HEADROOM, datagrams);
        inbound.get(vm.name()).fromUnderlayBatch(buffer, InboundForwarder.HEADROOM, datagrams.length, segmentSize, sourceHost, sourcePort);
    }

    void receive(LocalVm vm, byte[] datagram, int sourceHost, int sourcePort) {
        PacketBuffer buffer = PacketBuffer.allocate(InboundForwarder.HEADROOM + datagram.length + 1);
        buffer.buffer().put(InboundForwarder.HEADROOM, datagram);
        inbound.get(vm.name()).fromUnderlay(buffer, InboundForwarder.HEADROOM, datagram.length, sourceHost, sourcePort);
    }

    void fromVm(String vm, byte[] frame) {
        PacketBuffer buffer = PacketBuffer.allocate(OutboundForwarder.HEADROOM + frame.length + 64);
        buffer.buffer().put(OutboundForwarder.HEADROOM, frame);
        outbound.get(vm).fromVm(buffer, OutboundForwarder.HEADROOM, frame.length);
    }

    /** A frame with its virtio header (the 10 bytes just before the frame), as an offloading TAP gives it. */
    void fromVm(String vm, byte[] virtioHeader, byte[] frame) {
        PacketBuffer buffer = PacketBuffer.allocate(OutboundForwarder.HEADROOM + frame.length + 64);
        buffer.buffer().put(OutboundForwarder.HEADROOM - virtioHeader.length, virtioHeader);
        buffer.buffer().put(OutboundForwarder.HEADROOM, frame);
        outbound.get(vm).fromVm(buffer, OutboundForwarder.HEADROOM, frame.length);
    }

    long value(String counter) {
        return counterFile.reader().value(counter);
    }

    private static byte[] copy(PacketBuffer packet, int index, int length) {
        byte[] bytes = new byte[length];
        packet.buffer().get(index, bytes);
        return bytes;
    }
}
