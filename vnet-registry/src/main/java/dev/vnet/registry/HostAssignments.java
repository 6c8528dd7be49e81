package dev.vnet.registry;

import java.time.Duration;
import java.util.List;

/**
 * What one host's agent needs from the registry: its VMs (with their keys), the gateways it runs (with
 * theirs), and how to judge token expiry.
 *
 * @param address   the host's underlay address, or 0 when the caller is only a gateway, not a registered host
 * @param tokenTtl  {@link RegistryConfig#TOKENS_NEVER_EXPIRE} when tokens never expire
 * @param clockSkew how far a token's expiry may be off the receiver's clock
 */
public record HostAssignments(String host, int address, List<VmAssignment> vms, List<GatewayAssignment> gateways,
                              Duration tokenTtl, Duration clockSkew) {
    public HostAssignments {
        vms = List.copyOf(vms);
        gateways = List.copyOf(gateways);
    }
}
