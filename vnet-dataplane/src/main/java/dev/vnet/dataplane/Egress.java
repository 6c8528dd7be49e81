package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;

/**
 * Where the forwarder puts frames. One instance per forwarding thread (it owns that thread's
 * syscall state); tests use a recording implementation and need no devices.
 */
public interface Egress {
    /** Writes one Ethernet frame to a local VM's TAP. @return false if the kernel refused it */
    boolean toPort(VmPort port, PacketBuffer packet, int index, int length);

    /** Sends one vnet datagram to another host's agent. @return false if the kernel refused it */
    boolean toUnderlay(RemoteHost host, PacketBuffer packet, int index, int length);
}
