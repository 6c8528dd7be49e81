package dev.vnet.gateway.path;

import dev.vnet.dataplane.sys.PacketBuffer;

import java.lang.foreign.MemorySegment;

/**
 * Where a gateway's packets leave: into the underlay towards a VM's host (one UDP datagram), or to the
 * public side (one IPv4 packet). Implementations must be safe to call from any thread; the process's
 * uses a libc errno slot per thread, tests record.
 */
public interface GatewayEgress {
    boolean toUnderlay(PacketBuffer packet, int index, int length, MemorySegment socketAddress);

    boolean toPublic(PacketBuffer packet, int index, int length);
}
