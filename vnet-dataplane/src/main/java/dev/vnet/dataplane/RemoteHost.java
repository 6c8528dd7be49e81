package dev.vnet.dataplane;

import java.lang.foreign.MemorySegment;

/**
 * Another host's agent on the underlay. The socket address is built once, when the table is built,
 * so sending to it allocates nothing.
 */
public record RemoteHost(String name, int address, int port, MemorySegment socketAddress) {
}
