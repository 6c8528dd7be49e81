package dev.vnet.cli;

import dev.vnet.dataplane.AgentConfig;
import dev.vnet.lab.Attachment;
import dev.vnet.registry.HostAssignments;
import dev.vnet.registry.VmAssignment;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Builds an agent's configuration from two sources: the registry (which VMs run on this host, their
 * addresses, ports and keys) and the host's own attachments file (which namespace and TAP name each VM
 * has here, which only the host's hypervisor, the lab, knows).
 */
final class AgentAssembly {
    private static final Logger LOG = LoggerFactory.getLogger(AgentAssembly.class);

    private AgentAssembly() {
    }

    static AgentConfig config(HostAssignments assignments, List<Attachment> attachments, int underlayMtu, boolean offloads,
                              long busyPollMicros) {
        Map<String, Attachment> byVm = attachments.stream().collect(Collectors.toMap(Attachment::vm, Function.identity()));
        List<AgentConfig.Vm> vms = new ArrayList<>();
        for (VmAssignment assignment : assignments.vms()) {
            Attachment attachment = byVm.get(assignment.vm().name());
            if (attachment == null) {
                LOG.warn("vm {} is assigned to this host but has no attachment here; skipped", assignment.vm().name());
                continue;
            }
            var vm = assignment.vm();
            vms.add(new AgentConfig.Vm(vm.name(), attachment.namespace(), attachment.tap(), vm.networkId(),
                    Ipv4Address.toString(vm.address()), assignment.subnet().prefixLength(), MacAddress.toString(vm.mac()),
                    vm.port(), Base64.getEncoder().encodeToString(assignment.key())));
        }
        Duration ttl = assignments.tokenTtl();
        long maxTtlSeconds = ttl.compareTo(Duration.ofSeconds(Integer.MAX_VALUE)) > 0 ? Integer.MAX_VALUE : ttl.toSeconds();
        return new AgentConfig(assignments.host(), Ipv4Address.toString(assignments.address()), underlayMtu,
                assignments.clockSkew().toSeconds(), maxTtlSeconds, offloads, busyPollMicros, vms);
    }
}
