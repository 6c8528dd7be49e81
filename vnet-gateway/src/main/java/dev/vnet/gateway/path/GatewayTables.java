package dev.vnet.gateway.path;

import dev.vnet.gateway.config.ForwardingMode;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the forwarders look up, built once per configuration and then only read (so both threads share
 * it without locks; a new configuration is a new instance swapped in with one volatile write).
 *
 * <ul>
 *   <li>VIP address → its service (the public side's first lookup);</li>
 *   <li>(network, backend address) → the DNAT services it serves, for the stateless reverse
 *       translation of its replies: a packet from that VM's address and a listener port leaves with the
 *       VIP as its source;</li>
 *   <li>(VIP, backend address) for VIPs in unchanged mode, whose backends send with the VIP as source:
 *       such a packet is accepted only from a backend of that VIP;</li>
 *   <li>probe addresses: each backend gets an address from {@code 100.127.0.0/16} in this gateway's
 *       namespace, routed into its TUN device. The health checker's kernel sockets connect to it; the
 *       public forwarder translates it to the backend (network, address), which also keeps backends of
 *       different networks with equal addresses apart.</li>
 * </ul>
 */
public final class GatewayTables {
    public static final int PROBE_PREFIX = 0x647F_0000; // 100.127.0.0
    public static final int PROBE_PREFIX_LENGTH = 16;
    public static final GatewayTables EMPTY = new GatewayTables(List.of());

    private final List<VipService> services;
    private final Int2ObjectHashMap<VipService> byAddress = new Int2ObjectHashMap<>();
    private final Long2ObjectHashMap<VipService[]> dnatByBackend = new Long2ObjectHashMap<>();
    private final LongHashSet unchangedBackends = new LongHashSet();
    private final Long2LongHashMap probeToBackend = new Long2LongHashMap(-1);
    private final Long2LongHashMap backendToProbe = new Long2LongHashMap(-1);

    public GatewayTables(List<VipService> services) {
        this.services = List.copyOf(services);
        Map<Long, List<VipService>> dnat = new TreeMap<>();
        for (VipService service : services) {
            if (byAddress.put(service.address(), service) != null) {
                throw new IllegalArgumentException("two load balancers share VIP " + dev.vnet.wire.Ipv4Address.toString(service.address()));
            }
            for (Backend backend : service.backends()) {
                if (service.mode() == ForwardingMode.UNCHANGED) {
                    unchangedBackends.add(unchangedKey(service.address(), backend.address()));
                }
                long key = backendKey(backend.networkId(), backend.address());
                if (service.mode() == ForwardingMode.DNAT) {
                    dnat.computeIfAbsent(key, k -> new ArrayList<>()).add(service);
                }
                if (!backendToProbe.containsKey(key)) {
                    int probe = PROBE_PREFIX + backendToProbe.size() + 1;
                    if (backendToProbe.size() + 2 >= 1 << (32 - PROBE_PREFIX_LENGTH)) {
                        throw new IllegalArgumentException("more backends than probe addresses");
                    }
                    backendToProbe.put(key, probe & 0xFFFF_FFFFL);
                    probeToBackend.put(probe & 0xFFFF_FFFFL, key);
                }
            }
        }
        dnat.forEach((key, list) -> dnatByBackend.put(key, list.toArray(VipService[]::new)));
    }

    public static long backendKey(long networkId, int address) {
        return (networkId << 32) | (address & 0xFFFF_FFFFL);
    }

    public List<VipService> services() {
        return services;
    }

    /** The service at this VIP, or null. */
    public VipService vip(int address) {
        return byAddress.get(address);
    }

    /** The DNAT services whose backend is (network, address), or null. */
    public VipService[] dnatServicesOf(long networkId, int address) {
        return dnatByBackend.get(backendKey(networkId, address));
    }

    /** Whether {@code vm} is a backend of the unchanged-mode VIP {@code vip}, so it may send from it. */
    public boolean isUnchangedBackend(int vip, int vm) {
        return unchangedBackends.contains(unchangedKey(vip, vm));
    }

    private static long unchangedKey(int vip, int vm) {
        return ((long) vip << 32) | (vm & 0xFFFF_FFFFL);
    }

    /** The backend key ({@link #backendKey}) behind a probe address, or -1. */
    public long backendOfProbe(int probeAddress) {
        return probeToBackend.get(probeAddress & 0xFFFF_FFFFL);
    }

    /** The probe address of backend (network, address), or 0 when it is no backend here. */
    public int probeOf(long networkId, int address) {
        long probe = backendToProbe.get(backendKey(networkId, address));
        return probe < 0 ? 0 : (int) probe;
    }
}
