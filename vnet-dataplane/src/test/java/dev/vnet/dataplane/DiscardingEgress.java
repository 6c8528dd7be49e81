package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;

import java.lang.foreign.MemorySegment;

/** An egress that accepts everything and keeps nothing: for measuring what forwarding itself allocates. */
final class DiscardingEgress implements Egress {
    @Override
    public boolean toVm(LocalVm vm, PacketBuffer packet, int index, int length) {
        return true;
    }

    @Override
    public boolean toUnderlay(LocalVm source, MemorySegment destination, PacketBuffer packet, int index, int length) {
        return true;
    }

    @Override
    public boolean toUnderlaySegmented(LocalVm source, MemorySegment destination, PacketBuffer packet, int index,
                                       int length, int segmentSize) {
        return true;
    }
}
