package dev.vnet.dataplane;

import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * What an agent needs to start: its host, the underlay, the token rules, and the VMs it runs as the
 * registry assigned them, joined with where each VM is attached on this host (namespace, TAP name).
 * With {@code offloads}, TAPs carry virtio-net headers (TSO, checksum offload) and ports use
 * {@code UDP_SEGMENT}/{@code UDP_GRO}; without, one frame per syscall (the comparison baseline).
 * {@code busyPollMicros} is how long a forwarding thread keeps polling after its last packet before it
 * sleeps (see {@link dev.vnet.dataplane.sys.ReadinessWait}); 0 sleeps at once.
 */
public record AgentConfig(String host, String underlayAddress, int underlayMtu, long skewSeconds, long maxTtlSeconds,
                          boolean offloads, long busyPollMicros, List<Vm> vms) {
    public AgentConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(underlayAddress, "underlayAddress");
        vms = List.copyOf(vms);
        if (underlayMtu < 576 || underlayMtu > 65535) {
            throw new IllegalArgumentException("underlay MTU must be 576-65535, not " + underlayMtu);
        }
        if (busyPollMicros < 0 || busyPollMicros > 1_000_000) {
            throw new IllegalArgumentException("busy-poll time must be 0-1000000 microseconds, not " + busyPollMicros);
        }
    }

    /**
     * One VM of this host.
     *
     * @param key base64 of the VM's 32-byte secret
     */
    public record Vm(String name, String namespace, String tap, long networkId, String address, int prefixLength,
                     String mac, int port, String key) {
        public byte[] keyBytes() {
            return Base64.getDecoder().decode(key);
        }
    }
}
