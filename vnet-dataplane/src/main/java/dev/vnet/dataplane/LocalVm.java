package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.Counter;
import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.TapDevice;
import dev.vnet.dataplane.sys.UdpSocket;

/**
 * A VM running on this host, as the registry assigned it: its network, addresses, the UDP port its
 * host reserved for it, and its secret key, plus what the agent holds for it (the TAP, the socket
 * bound to its port, its pairs) and its counters. "rx" is what the agent took from the VM, "tx" what
 * it gave to the VM.
 */
public final class LocalVm {
    private final String name;
    private final int networkId;
    private final int address;
    private final int subnet;
    private final int prefixLength;
    private final long mac;
    private final int port;
    private final byte[] key;
    private final TapDevice tap;
    private final UdpSocket socket;
    private final boolean offloads;
    private final VnpTable pairs = new VnpTable();
    /**
     * Further addresses the VM owns (allowed address pairs, e.g. a load balancer VIP it holds itself):
     * copy on write, replaced whole by the agent while the forwarders read it; never null, never changed
     * in place. A few entries scanned linearly, so a lookup allocates nothing.
     */
    private volatile int[] additionalAddresses = NONE;
    private static final int[] NONE = new int[0];
    final Counter rxPackets;
    final Counter rxBytes;
    final Counter txPackets;
    final Counter txBytes;

    public LocalVm(String name, int networkId, int address, int prefixLength, long mac, int port, byte[] key,
                   TapDevice tap, UdpSocket socket, Counters counters) {
        this(name, networkId, address, prefixLength, mac, port, key, tap, socket, tap != null && tap.offloads(), counters);
    }

    /**
     * @param offloads frames to and from this VM carry a {@code virtio_net_hdr} (TSO, checksum offload)
     */
    public LocalVm(String name, int networkId, int address, int prefixLength, long mac, int port, byte[] key,
                   TapDevice tap, UdpSocket socket, boolean offloads, Counters counters) {
        if (prefixLength < 8 || prefixLength > 30) {
            throw new IllegalArgumentException("vm " + name + ": prefix length must be 8-30, not " + prefixLength);
        }
        this.name = name;
        this.networkId = networkId;
        this.address = address;
        this.prefixLength = prefixLength;
        this.subnet = address & mask(prefixLength);
        this.mac = mac;
        this.port = port;
        this.key = key.clone();
        this.tap = tap;
        this.socket = socket;
        this.offloads = offloads;
        String prefix = "port." + name + ".";
        this.rxPackets = counters.counter(prefix + "rx_packets");
        this.rxBytes = counters.counter(prefix + "rx_bytes");
        this.txPackets = counters.counter(prefix + "tx_packets");
        this.txBytes = counters.counter(prefix + "tx_bytes");
    }

    private static int mask(int prefixLength) {
        return (int) (0xFFFF_FFFFL << (32 - prefixLength));
    }

    public String name() {
        return name;
    }

    public int networkId() {
        return networkId;
    }

    public int address() {
        return address;
    }

    /** A copy of the further addresses the VM owns besides {@link #address()}. */
    public int[] additionalAddresses() {
        return additionalAddresses.clone();
    }

    /**
     * Replaces the further addresses the VM owns (the array is copied; duplicates and the VM's own address
     * are left out). Takes effect for the next packet each forwarder looks at.
     */
    public void setAdditionalAddresses(int[] addresses) {
        int[] next = java.util.Arrays.stream(addresses).filter(a -> a != address).distinct().toArray();
        additionalAddresses = next.length == 0 ? NONE : next;
    }

    /** Whether {@code other} is the VM's address or one of its additional addresses; allocates nothing. */
    public boolean owns(int other) {
        if (other == address) {
            return true;
        }
        for (int additional : additionalAddresses) {
            if (additional == other) {
                return true;
            }
        }
        return false;
    }

    public long mac() {
        return mac;
    }

    public int port() {
        return port;
    }

    public int prefixLength() {
        return prefixLength;
    }

    /** A copy of the VM's secret key (the VM itself never sees it). */
    public byte[] key() {
        return key.clone();
    }

    /** Whether frames to and from this VM carry a {@code virtio_net_hdr}. */
    public boolean offloads() {
        return offloads;
    }

    public TapDevice tap() {
        return tap;
    }

    public UdpSocket socket() {
        return socket;
    }

    VnpTable pairs() {
        return pairs;
    }

    /** A unicast address of this VM's subnet other than the network and broadcast addresses. */
    public boolean isHostInSubnet(int other) {
        int hostBits = other & ~mask(prefixLength);
        return (other & mask(prefixLength)) == subnet && hostBits != 0 && hostBits != ~mask(prefixLength);
    }

    /** The subnet's broadcast address. */
    public int broadcast() {
        return subnet | ~mask(prefixLength);
    }

    @Override
    public String toString() {
        return "LocalVm[" + name + ", network " + Integer.toUnsignedString(networkId) + "]";
    }
}
