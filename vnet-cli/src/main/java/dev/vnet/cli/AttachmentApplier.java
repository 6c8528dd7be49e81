package dev.vnet.cli;

import dev.vnet.controller.channel.HostState;
import dev.vnet.controller.channel.MapDiff;
import dev.vnet.controller.channel.VmAttachment;
import dev.vnet.controller.channel.client.HostStateChange;
import dev.vnet.controller.channel.client.HostStateListener;
import dev.vnet.dataplane.Agent;
import dev.vnet.dataplane.AgentConfig;
import dev.vnet.dataplane.TokenGrant;
import dev.vnet.dataplane.TokenSource;
import dev.vnet.lab.GuestNamespaces;
import dev.vnet.vsock.host.SocketDevices;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Applies what the controller says this host runs: for a VM placed here, its namespace (as a
 * hypervisor would create the VM), its TAP and port in the data plane, and its NIC configured; for a VM
 * gone, the reverse. Only the difference is applied, so a resync that finds everything right touches
 * nothing and traffic is not disturbed. Routes are kept by the channel client ({@code state()}); the
 * forwarder still learns where a destination lives from its token grant.
 *
 * <p>The data plane knows a VM by a local name (its namespace, its counters): the VM's name, or the name
 * with the start of its id when another project's VM of that name already runs here. Tokens are asked
 * for by the registry's name of the VM, its id, so this class is also the token source's translator.
 */
final class AttachmentApplier implements HostStateListener {
    private static final Logger LOG = LoggerFactory.getLogger(AttachmentApplier.class);
    private static final com.fasterxml.jackson.databind.ObjectWriter ROUTES_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter();

    private final Agent agent;
    private final GuestNamespaces guests;
    /** Local name to VM id, for token requests; read by forwarding threads. */
    private final Map<String, String> idByLocalName;
    private final Map<String, String> localNameById = new ConcurrentHashMap<>();

    private final java.nio.file.Path routesFile;
    private final SocketDevices devices;

    /**
     * @param idByLocalName filled here, read by the token source ({@link #translating})
     * @param routesFile    where to write the routes held after each change, or null
     */
    AttachmentApplier(Agent agent, GuestNamespaces guests, Map<String, String> idByLocalName, java.nio.file.Path routesFile) {
        this(agent, guests, idByLocalName, routesFile, null);
    }

    /** @param devices the host's socket devices (socket offload), or null when this agent offers none */
    AttachmentApplier(Agent agent, GuestNamespaces guests, Map<String, String> idByLocalName, java.nio.file.Path routesFile,
                      SocketDevices devices) {
        this.agent = agent;
        this.guests = guests;
        this.idByLocalName = idByLocalName;
        this.routesFile = routesFile;
        this.devices = devices;
    }

    /** Replaces the routes file at once (written beside it, then moved), so a reader never sees half of it. */
    private void writeRoutes(HostState state) {
        if (routesFile == null) {
            return;
        }
        List<Map<String, Object>> routes = state.routes().values().stream()
                .sorted(java.util.Comparator.comparingLong(dev.vnet.controller.channel.Route::networkId)
                        .thenComparingInt(route -> route.address()))
                .map(route -> Map.<String, Object>of("network_id", route.networkId(), "address", Ipv4Address.toString(route.address()),
                        "mac", MacAddress.toString(route.mac()), "host", route.hostName(),
                        "host_address", Ipv4Address.toString(route.hostAddress()), "host_port", route.hostPort(),
                        "vm_id", route.vmId(), "encapsulation", route.encapsulation()))
                .toList();
        try {
            StatusFiles.replace(routesFile, ROUTES_JSON.writeValueAsString(routes));
        } catch (java.io.IOException e) {
            LOG.warn("cannot write the routes file {}: {}", routesFile, e.toString());
        }
    }

    /** Wraps the registry's token source: the data plane names the source VM locally, the registry by id. */
    static TokenSource translating(TokenSource registry, Map<String, String> idByLocalName) {
        return new TokenSource() {
            @Override
            public CompletableFuture<TokenGrant> request(String sourceVm, int destinationAddress) {
                return registry.request(idByLocalName.getOrDefault(sourceVm, sourceVm), destinationAddress);
            }
        };
    }

    @Override
    public void apply(HostStateChange change) {
        MapDiff<VmAttachment> attachments = change.diff().attachments();
        HostState previous = change.previous();
        for (VmAttachment gone : attachments.removed()) {
            remove(gone);
        }
        for (VmAttachment changed : attachments.changed()) {
            VmAttachment old = previous.attachmentsByVmId().get(changed.vmId());
            if (updatesInPlace(old, changed) && localNameById.containsKey(changed.vmId())) {
                // Only its additional addresses changed: its TAP, port, pairs and namespace stay.
                setAdditionalAddresses(localNameById.get(changed.vmId()), changed);
                continue;
            }
            if (old != null) {
                remove(old);
            }
            add(changed);
        }
        for (VmAttachment added : attachments.added()) {
            add(added);
        }
        if (!change.diff().routes().isEmpty() || change.full()) {
            writeRoutes(change.current());
        }
        if (!change.diff().isEmpty()) {
            LOG.info("applied version {}{}: {} VMs here, {} routes ({})", change.version(), change.full() ? " (full)" : "",
                    change.current().attachmentsByVmId().size(), change.current().routes().size(), change.diff());
        }
    }

    private void add(VmAttachment vm) {
        String localName = localNameById.computeIfAbsent(vm.vmId(), id -> idByLocalName.containsKey(vm.vmName())
                ? vm.vmName() + "." + id.substring(0, Math.min(8, id.length())) : vm.vmName());
        idByLocalName.put(localName, vm.vmId());
        String namespace = guests.create(localName);
        String tap = "vt" + vm.hostPort();
        String address = Ipv4Address.toString(vm.address());
        agent.addVm(new AgentConfig.Vm(localName, namespace, tap, vm.networkId(), address, vm.prefixLength(),
                MacAddress.toString(vm.mac()), vm.hostPort(), Base64.getEncoder().encodeToString(vm.key())));
        guests.configureNic(localName, tap, address, vm.prefixLength());
        setAdditionalAddresses(localName, vm);
        if (devices != null) {
            devices.add(localName, namespace); // the VM's socket device, reachable only from its namespace
        }
    }

    /**
     * Whether a VM that went from {@code old} to {@code now} can be updated where it runs rather than
     * removed and added again (which would recreate its TAP and namespace): only its additional addresses
     * changed.
     */
    static boolean updatesInPlace(VmAttachment old, VmAttachment now) {
        return old != null && old.differsOnlyInAdditionalAddresses(now);
    }

    /** The VM's additional addresses to the data plane (it may send from them, is given packets to them) and its {@code lo}. */
    private void setAdditionalAddresses(String localName, VmAttachment vm) {
        agent.setAdditionalAddresses(localName, vm.additionalAddressArray());
        guests.setLoopbackAddresses(localName, vm.additionalAddresses().stream().map(Ipv4Address::toString).toList());
    }

    private void remove(VmAttachment vm) {
        String localName = localNameById.remove(vm.vmId());
        if (localName == null) {
            return;
        }
        if (devices != null) {
            devices.remove(localName);
        }
        agent.removeVm(localName);
        guests.destroy(localName);
        idByLocalName.remove(localName);
    }
}
