package dev.vnet.gateway.path;

/**
 * Egress source translation: a VM's connection to an outside address leaves with the gateway's public
 * address and a public port (for ICMP echo, a public identifier) of this table's choosing, and replies
 * to that port are translated back. The state is this gateway's alone: replies come back to the public
 * address, which routes to this gateway only.
 *
 * <h2>Layout</h2>
 * Per protocol an array indexed by public port holds the translation (network, VM address and port,
 * remote address and port) and its expiry second: the reverse lookup is one array read. The forward
 * lookup is an open-addressing index from (protocol, network, VM endpoint, remote endpoint) to the
 * public port; an index entry counts only while its port still holds the same translation, so nothing
 * is ever deleted. A new translation takes the next port, from a rotating cursor, whose translation
 * expired (idle: TCP {@value #TCP_IDLE_SECONDS} s, UDP {@value #UDP_IDLE_SECONDS} s, ICMP
 * {@value #ICMP_IDLE_SECONDS} s).
 *
 * <p>Both forwarding threads use it (outbound on the underlay thread, replies on the public one), so
 * every method holds the monitor; uncontended, that costs about as much as a volatile write. Nothing
 * allocates.
 */
public final class SnatTable {
    public static final int FIRST_PORT = 1024;
    static final int TCP_IDLE_SECONDS = 300;
    static final int UDP_IDLE_SECONDS = 60;
    static final int ICMP_IDLE_SECONDS = 30;
    private static final int PROTOCOLS = 3;
    private static final int PORTS = 65536;
    private static final int INDEX_SLOTS = 1 << 18;
    private static final int MAX_PROBES = 32;

    private final long[][] vmEndpoints = new long[PROTOCOLS][PORTS];
    private final long[][] networks = new long[PROTOCOLS][PORTS];
    private final long[][] remoteEndpoints = new long[PROTOCOLS][PORTS];
    private final int[][] expiries = new int[PROTOCOLS][PORTS];
    private final int[] cursors = {FIRST_PORT, FIRST_PORT, FIRST_PORT};
    private final long[] indexVm = new long[INDEX_SLOTS];
    private final long[] indexRemote = new long[INDEX_SLOTS];
    private final long[] indexNetwork = new long[INDEX_SLOTS];
    private final int[] indexPorts = new int[INDEX_SLOTS];

    /** Reverse-lookup results of the last successful {@link #inbound}, valid until the next call on the same thread. */
    private long foundNetwork;
    private int foundVmAddress;
    private int foundVmPort;

    /**
     * The public port for this connection, made if new, its life extended; -1 when every port of the
     * protocol is in use.
     */
    public synchronized int outbound(int protocol, long networkId, int vmAddress, int vmPort, int remote, int remotePort, int now) {
        int p = protocolIndex(protocol);
        if (p < 0) {
            return -1;
        }
        long vm = endpoint(vmAddress, vmPort);
        long far = endpoint(remote, remotePort);
        int slot = slot(p, networkId, vm, far);
        int free = -1;
        for (int probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & (INDEX_SLOTS - 1)) {
            int port = indexPorts[slot];
            if (port == 0) {
                free = free < 0 ? slot : free;
                break;
            }
            boolean current = isCurrent(p, port, networkId, vm, far, now);
            if (current && indexVm[slot] == vm && indexRemote[slot] == far && indexNetwork[slot] == (networkId << 2 | p)) {
                expiries[p][port] = now + idle(p);
                return port;
            }
            if (!current && free < 0) {
                free = slot; // a stale index entry: its port moved on or expired
            }
        }
        int port = allocate(p, now);
        if (port < 0) {
            return -1;
        }
        vmEndpoints[p][port] = vm;
        networks[p][port] = networkId;
        remoteEndpoints[p][port] = far;
        expiries[p][port] = now + idle(p);
        if (free >= 0) {
            indexVm[free] = vm;
            indexRemote[free] = far;
            indexNetwork[free] = networkId << 2 | p;
            indexPorts[free] = port;
        }
        return port;
    }

    /**
     * Finds the translation of a reply from {@code remote:remotePort} to public {@code port}; then
     * {@link #foundNetwork()}, {@link #foundVmAddress()}, {@link #foundVmPort()} hold it.
     */
    public synchronized boolean inbound(int protocol, int port, int remote, int remotePort, int now) {
        int p = protocolIndex(protocol);
        if (p < 0 || port < FIRST_PORT || port >= PORTS || expiries[p][port] <= now
                || remoteEndpoints[p][port] != endpoint(remote, remotePort)) {
            return false;
        }
        expiries[p][port] = now + idle(p);
        long vm = vmEndpoints[p][port];
        foundNetwork = networks[p][port];
        foundVmAddress = (int) (vm >>> 16);
        foundVmPort = (int) (vm & 0xFFFF);
        return true;
    }

    public synchronized long foundNetwork() {
        return foundNetwork;
    }

    public synchronized int foundVmAddress() {
        return foundVmAddress;
    }

    public synchronized int foundVmPort() {
        return foundVmPort;
    }

    /** Translations alive at {@code now}, all protocols (a scan: for counters and tests). */
    public synchronized int live(int now) {
        int count = 0;
        for (int[] byPort : expiries) {
            for (int expiry : byPort) {
                if (expiry > now) {
                    count++;
                }
            }
        }
        return count;
    }

    private boolean isCurrent(int p, int port, long networkId, long vm, long far, int now) {
        return expiries[p][port] > now && vmEndpoints[p][port] == vm && remoteEndpoints[p][port] == far
                && networks[p][port] == networkId;
    }

    private int allocate(int p, int now) {
        int span = PORTS - FIRST_PORT;
        int port = cursors[p];
        for (int tried = 0; tried < span; tried++) {
            if (expiries[p][port] <= now) {
                cursors[p] = port + 1 >= PORTS ? FIRST_PORT : port + 1;
                return port;
            }
            port = port + 1 >= PORTS ? FIRST_PORT : port + 1;
        }
        return -1;
    }

    private static long endpoint(int address, int port) {
        return ((address & 0xFFFF_FFFFL) << 16) | (port & 0xFFFF);
    }

    private static int protocolIndex(int protocol) {
        return switch (protocol) {
            case 6 -> 0;
            case 17 -> 1;
            case 1 -> 2;
            default -> -1;
        };
    }

    private static int idle(int p) {
        return p == 0 ? TCP_IDLE_SECONDS : p == 1 ? UDP_IDLE_SECONDS : ICMP_IDLE_SECONDS;
    }

    private static int slot(int p, long networkId, long vm, long far) {
        long h = vm * 0x9E3779B97F4A7C15L ^ far * 0xC2B2AE3D27D4EB4FL ^ (networkId << 2 | p) * 0x165667B19E3779F9L;
        h ^= h >>> 31;
        return (int) h & (INDEX_SLOTS - 1);
    }
}
