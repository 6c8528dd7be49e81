package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;

import java.lang.foreign.MemorySegment;

/**
 * Where the forwarders put packets. One instance per thread (it owns that thread's syscall state);
 * tests use a recording implementation and need no devices.
 */
public interface Egress {
    /** Writes one Ethernet frame to a local VM's TAP. @return false if the kernel refused it */
    boolean toVm(LocalVm vm, PacketBuffer packet, int index, int length);

    /** Sends one VNP datagram from {@code source}'s port to {@code destination} (a sockaddr_in). */
    boolean toUnderlay(LocalVm source, MemorySegment destination, PacketBuffer packet, int index, int length);

    /**
     * Sends {@code length} bytes as VNP datagrams of {@code segmentSize} bytes each (the last may be
     * shorter), with one syscall ({@code UDP_SEGMENT}).
     */
    boolean toUnderlaySegmented(LocalVm source, MemorySegment destination, PacketBuffer packet, int index, int length,
                                int segmentSize);
}
