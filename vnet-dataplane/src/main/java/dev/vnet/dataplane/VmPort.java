package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.Counter;
import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.TapDevice;

/**
 * A VM's NIC on this host: the TAP the agent holds, the addresses the VM may use, and its counters.
 * "rx" is what the agent received from the VM, "tx" what it delivered to the VM.
 */
public final class VmPort implements Endpoint {
    private final String vmName;
    private final int networkId;
    private final long mac;
    private final int ip;
    private final TapDevice tap;
    final Counter rxPackets;
    final Counter rxBytes;
    final Counter txPackets;
    final Counter txBytes;

    public VmPort(String vmName, int networkId, long mac, int ip, TapDevice tap, Counters counters) {
        this.vmName = vmName;
        this.networkId = networkId;
        this.mac = mac;
        this.ip = ip;
        this.tap = tap;
        String prefix = "port." + vmName + ".";
        this.rxPackets = counters.counter(prefix + "rx_packets");
        this.rxBytes = counters.counter(prefix + "rx_bytes");
        this.txPackets = counters.counter(prefix + "tx_packets");
        this.txBytes = counters.counter(prefix + "tx_bytes");
    }

    @Override
    public String vmName() {
        return vmName;
    }

    @Override
    public int networkId() {
        return networkId;
    }

    @Override
    public long mac() {
        return mac;
    }

    @Override
    public int ip() {
        return ip;
    }

    /** The TAP, or null for a port that only exists in a test. */
    public TapDevice tap() {
        return tap;
    }

    @Override
    public String toString() {
        return "VmPort[" + vmName + ", network " + Integer.toUnsignedString(networkId) + "]";
    }
}
