package dev.vnet.dataplane;

import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The forwarding table of one virtual network: every VM of that network by MAC (for frames) and by
 * IPv4 address (for the ARP answers the agent gives). Tables of different networks never share an
 * entry, which is what keeps overlapping address spaces apart. Immutable once built.
 */
public final class NetworkTable {
    private final int networkId;
    private final String name;
    private final Long2ObjectHashMap<Endpoint> byMac = new Long2ObjectHashMap<>();
    private final Int2ObjectHashMap<Endpoint> byIp = new Int2ObjectHashMap<>();
    private final List<Endpoint> endpoints = new ArrayList<>();

    NetworkTable(int networkId, String name) {
        this.networkId = networkId;
        this.name = name;
    }

    void add(Endpoint endpoint) {
        if (byMac.containsKey(endpoint.mac())) {
            throw new IllegalArgumentException("network " + name + ": MAC of " + endpoint.vmName()
                    + " already used by " + byMac.get(endpoint.mac()).vmName());
        }
        if (byIp.containsKey(endpoint.ip())) {
            throw new IllegalArgumentException("network " + name + ": address of " + endpoint.vmName()
                    + " already used by " + byIp.get(endpoint.ip()).vmName());
        }
        byMac.put(endpoint.mac(), endpoint);
        byIp.put(endpoint.ip(), endpoint);
        endpoints.add(endpoint);
    }

    public int networkId() {
        return networkId;
    }

    public String name() {
        return name;
    }

    /** The endpoint with this MAC, or null. */
    public Endpoint byMac(long mac) {
        return byMac.get(mac);
    }

    /** The endpoint with this IPv4 address, or null. */
    public Endpoint byIp(int ip) {
        return byIp.get(ip);
    }

    public List<Endpoint> endpoints() {
        return Collections.unmodifiableList(endpoints);
    }
}
