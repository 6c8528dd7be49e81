package dev.vnet.bench;

import dev.vnet.dataplane.Egress;
import dev.vnet.dataplane.LocalVm;
import dev.vnet.dataplane.sys.PacketBuffer;

import java.lang.foreign.MemorySegment;

/**
 * An egress for benchmarks: no syscalls, but every byte handed over is counted (so the JIT cannot drop
 * the work) and the last underlay send is remembered, so a benchmark can replay real datagrams.
 */
class CountingEgress implements Egress {
    long bytes;
    int lastUnderlayLength;
    int lastSegmentSize;
    PacketBuffer lastUnderlayPacket;
    int lastUnderlayIndex;

    @Override
    public boolean toVm(LocalVm vm, PacketBuffer packet, int index, int length) {
        bytes += length;
        return true;
    }

    @Override
    public boolean toUnderlay(LocalVm source, MemorySegment destination, PacketBuffer packet, int index, int length) {
        bytes += length;
        remember(packet, index, length, length);
        return true;
    }

    @Override
    public boolean toUnderlaySegmented(LocalVm source, MemorySegment destination, PacketBuffer packet, int index, int length,
                                       int segmentSize) {
        bytes += length;
        remember(packet, index, length, segmentSize);
        return true;
    }

    private void remember(PacketBuffer packet, int index, int length, int segmentSize) {
        lastUnderlayPacket = packet;
        lastUnderlayIndex = index;
        lastUnderlayLength = length;
        lastSegmentSize = segmentSize;
    }

    /** A copy of the last underlay send. */
    byte[] lastUnderlayBytes() {
        byte[] copy = new byte[lastUnderlayLength];
        lastUnderlayPacket.buffer().get(lastUnderlayIndex, copy);
        return copy;
    }
}
