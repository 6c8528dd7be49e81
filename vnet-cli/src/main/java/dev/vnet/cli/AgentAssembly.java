package dev.vnet.cli;

import dev.vnet.dataplane.AgentConfig;
import dev.vnet.registry.HostAssignments;
import dev.vnet.wire.Ipv4Address;

import java.time.Duration;
import java.util.List;



/**
 * An agent's configuration from the registry's answer for its host: the underlay address and the token
 * rules (lifetime, clock skew). Its VMs are not taken from there: the controller's channel adds them.
 */
final class AgentAssembly {
    private AgentAssembly() {
    }

    static AgentConfig config(HostAssignments assignments, int underlayMtu, boolean offloads, long busyPollMicros) {
        Duration ttl = assignments.tokenTtl();
        long maxTtlSeconds = ttl.compareTo(Duration.ofSeconds(Integer.MAX_VALUE)) > 0 ? Integer.MAX_VALUE : ttl.toSeconds();
        return new AgentConfig(assignments.host(), Ipv4Address.toString(assignments.address()), underlayMtu,
                assignments.clockSkew().toSeconds(), maxTtlSeconds, offloads, busyPollMicros, List.of());
    }
}
