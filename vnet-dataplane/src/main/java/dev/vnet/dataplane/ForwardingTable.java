package dev.vnet.dataplane;

import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * All virtual networks this host serves, keyed by network id, plus this host's own ports by MAC
 * (to tell "wrong network" from "unknown destination" when a datagram arrives).
 *
 * <p>A table is immutable; a new placement builds a new table and the agent swaps it in with one
 * volatile write, so forwarding threads never lock.
 */
public final class ForwardingTable {
    private final Int2ObjectHashMap<NetworkTable> networks;
    private final Long2ObjectHashMap<VmPort> localPortsByMac;
    private final List<VmPort> localPorts;

    private ForwardingTable(Int2ObjectHashMap<NetworkTable> networks, Long2ObjectHashMap<VmPort> localPortsByMac,
                            List<VmPort> localPorts) {
        this.networks = networks;
        this.localPortsByMac = localPortsByMac;
        this.localPorts = localPorts;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The table of network {@code networkId}, or null if this host serves no such network. */
    public NetworkTable network(int networkId) {
        return networks.get(networkId);
    }

    /** A port on this host with this MAC, in any network, or null. */
    public VmPort localPort(long mac) {
        return localPortsByMac.get(mac);
    }

    public List<VmPort> localPorts() {
        return localPorts;
    }

    public Collection<NetworkTable> networks() {
        return networks.values();
    }

    public static final class Builder {
        private final Int2ObjectHashMap<NetworkTable> networks = new Int2ObjectHashMap<>();
        private final Long2ObjectHashMap<VmPort> localPortsByMac = new Long2ObjectHashMap<>();
        private final List<VmPort> localPorts = new ArrayList<>();

        public Builder network(int networkId, String name) {
            if (networkId == 0) {
                throw new IllegalArgumentException("network " + name + ": id 0 is reserved");
            }
            NetworkTable existing = networks.get(networkId);
            if (existing != null && !existing.name().equals(name)) {
                throw new IllegalArgumentException("networks " + existing.name() + " and " + name
                        + " share id " + Integer.toUnsignedString(networkId));
            }
            if (existing == null) {
                networks.put(networkId, new NetworkTable(networkId, name));
            }
            return this;
        }

        public Builder local(VmPort port) {
            table(port).add(port);
            if (localPortsByMac.containsKey(port.mac())) {
                throw new IllegalArgumentException("MAC of " + port.vmName() + " is used by another local port");
            }
            localPortsByMac.put(port.mac(), port);
            localPorts.add(port);
            return this;
        }

        public Builder remote(RemoteVm vm) {
            table(vm).add(vm);
            return this;
        }

        private NetworkTable table(Endpoint endpoint) {
            NetworkTable table = networks.get(endpoint.networkId());
            if (table == null) {
                throw new IllegalArgumentException(endpoint.vmName() + " is on unknown network "
                        + Integer.toUnsignedString(endpoint.networkId()));
            }
            return table;
        }

        public ForwardingTable build() {
            return new ForwardingTable(networks, localPortsByMac, List.copyOf(localPorts));
        }
    }
}
