package dev.vnet.gateway.path;

import dev.vnet.gateway.config.ForwardingMode;
import dev.vnet.gateway.hashing.ConsistentMapping;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.gateway.hashing.MappingSpec;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One load-balanced public address as a gateway runs it: its listeners, its backends in a fixed order
 * (sorted by VM name, so every gateway builds the same table), their health, and the consistent
 * mapping over the healthy ones.
 *
 * <h2>Health and locality</h2>
 * Health changes arrive from the health checker; each makes new immutable mappings that the
 * forwarding thread picks up with one volatile read. With locality on, a second mapping covers only
 * the healthy backends whose location equals this gateway's; a flow uses it while it has any backend
 * and falls back to the mapping over every healthy backend otherwise. Gateways in different locations
 * then differ in their choice, which is the point; gateways in one location still agree.
 */
public final class VipService {
    private static final int[] NO_PORTS = new int[0];

    private final String name;
    private final long networkId;
    private final int address;
    private final int[] tcpPorts;
    private final int[] udpPorts;
    private final ForwardingMode mode;
    private final FlowIdentity identity;
    private final MappingSpec table;
    private final boolean locality;
    private final int idleTimeoutSeconds;
    private final Backend[] backends;
    private final long[] backendIds;
    private final boolean[] local;
    /** Distinguishes this configuration from earlier ones in the flow table. */
    private final int generation;
    private volatile Mappings mappings;

    /** The mappings for one healthy set; {@code preferred} is null without locality or local backends. */
    private record Mappings(boolean[] healthy, ConsistentMapping all, ConsistentMapping preferred) {
    }

    public VipService(String name, long networkId, int address, int[] tcpPorts, int[] udpPorts, ForwardingMode mode,
                      FlowIdentity identity, MappingSpec table, boolean locality, int idleTimeoutSeconds,
                      List<Backend> backends, String gatewayLocation, int generation, boolean initiallyHealthy) {
        this.name = name;
        this.networkId = networkId;
        this.address = address;
        this.tcpPorts = sorted(tcpPorts);
        this.udpPorts = sorted(udpPorts);
        this.mode = mode;
        this.identity = identity;
        this.table = table;
        this.locality = locality;
        this.idleTimeoutSeconds = idleTimeoutSeconds;
        this.backends = backends.stream().sorted(Comparator.comparing(Backend::vm)).toArray(Backend[]::new);
        this.backendIds = Arrays.stream(this.backends).mapToLong(Backend::mappingId).toArray();
        this.local = new boolean[this.backends.length];
        for (int i = 0; i < this.backends.length; i++) {
            local[i] = !gatewayLocation.isEmpty() && gatewayLocation.equals(this.backends[i].location());
        }
        this.generation = generation;
        boolean[] healthy = new boolean[this.backends.length];
        Arrays.fill(healthy, initiallyHealthy);
        this.mappings = build(healthy);
    }

    private static int[] sorted(int[] ports) {
        if (ports == null || ports.length == 0) {
            return NO_PORTS;
        }
        int[] copy = ports.clone();
        Arrays.sort(copy);
        return copy;
    }

    private Mappings build(boolean[] healthy) {
        ConsistentMapping all = table.build(backendIds, healthy);
        ConsistentMapping preferred = null;
        if (locality) {
            boolean[] usable = new boolean[healthy.length];
            boolean any = false;
            for (int i = 0; i < usable.length; i++) {
                usable[i] = healthy[i] && local[i];
                any |= usable[i];
            }
            preferred = any ? table.build(backendIds, usable) : null;
        }
        return new Mappings(healthy, all, preferred);
    }

    /**
     * Whether the VIP takes {@code protocol} (IPv4 protocol number) on {@code port}; for a DNAT backend's
     * packet, whether it comes from a listener port and so is a reply to translate back.
     */
    public boolean listens(int protocol, int port) {
        int[] ports = protocol == 6 ? tcpPorts : protocol == 17 ? udpPorts : NO_PORTS;
        for (int p : ports) {
            if (p == port) {
                return true;
            }
        }
        return false;
    }

    /** The backend index for a new flow, or {@link ConsistentMapping#NONE}. Allocates nothing. */
    public int backendFor(long flowHash) {
        Mappings current = mappings;
        if (current.preferred != null) {
            int backend = current.preferred.backendOf(flowHash);
            if (backend != ConsistentMapping.NONE) {
                return backend;
            }
        }
        return current.all.backendOf(flowHash);
    }

    public boolean isHealthy(int backend) {
        return mappings.healthy[backend];
    }

    /** Records a health change; rebuilds the mappings when it changes anything. Called by the health checker. */
    public synchronized boolean setHealthy(int backend, boolean healthy) {
        Mappings current = mappings;
        if (current.healthy[backend] == healthy) {
            return false;
        }
        boolean[] next = current.healthy.clone();
        next[backend] = healthy;
        mappings = build(next);
        return true;
    }

    /** The backends' health, indexed like {@link #backends()}. */
    public boolean[] health() {
        return mappings.healthy.clone();
    }

    public String name() {
        return name;
    }

    public long networkId() {
        return networkId;
    }

    public int address() {
        return address;
    }

    public ForwardingMode mode() {
        return mode;
    }

    public FlowIdentity identity() {
        return identity;
    }

    public long hashSeed() {
        return table.seed();
    }

    public MappingSpec table() {
        return table;
    }

    public boolean locality() {
        return locality;
    }

    public int idleTimeoutSeconds() {
        return idleTimeoutSeconds;
    }

    public int generation() {
        return generation;
    }

    public int backendCount() {
        return backends.length;
    }

    public Backend backend(int index) {
        return backends[index];
    }

    public List<Backend> backends() {
        return List.of(backends);
    }

    public int[] tcpPorts() {
        return tcpPorts.clone();
    }

    public int[] udpPorts() {
        return udpPorts.clone();
    }
}
