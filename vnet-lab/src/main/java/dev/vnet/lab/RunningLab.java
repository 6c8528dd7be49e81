package dev.vnet.lab;

import dev.vnet.dataplane.counters.CountersReader;
import dev.vnet.controller.api.client.ApiClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A lab that is up: run commands inside its VMs, read its agents' counters, talk to its controller. */
public record RunningLab(Topology topology, List<Lab.Vm> vms) {

    public String name() {
        return topology.name();
    }

    public Lab.Vm vm(String name) {
        return vms.stream().filter(v -> v.name().equals(name)).findFirst()
                .orElseThrow(() -> new LabException("no VM named " + name + " in lab " + name()));
    }

    /** The underlay address of {@code host}. */
    public String hostAddress(String host) {
        return topology.hosts().stream().filter(h -> h.name().equals(host)).findFirst()
                .orElseThrow(() -> new LabException("no host named " + host)).address();
    }

    /** Runs {@code command} inside the VM's namespace, as a process of the guest would. */
    public Shell.Result exec(String vm, Duration timeout, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", vm(vm).namespace()));
        full.addAll(List.of(command));
        return Shell.run(timeout, full);
    }

    /** Starts a long-running process inside the VM (a server); the lab's teardown kills it. */
    public Process spawn(String vm, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", vm(vm).namespace()));
        full.addAll(List.of(command));
        try {
            return new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            throw new LabException("cannot start " + String.join(" ", command) + " in " + vm + ": " + e.getMessage(), e);
        }
    }

    /** The public side's client namespace (a lab with gateways): {@code ip netns exec} it to act as a client. */
    public String publicNamespace() {
        return LabNames.publicNamespace(name());
    }

    /** The public router's namespace (a lab with gateways). */
    public String routerNamespace() {
        return LabNames.routerNamespace(name());
    }

    public String gatewayNamespace(String gateway) {
        return LabNames.gatewayNamespace(name(), topology.gateway(gateway).name());
    }

    /** Runs {@code command} in the public side's client namespace, as a client on the internet would. */
    public Shell.Result execPublic(Duration timeout, String... command) {
        if (!topology.hasGateways()) {
            throw new LabException("lab " + name() + " has no gateways, so no public side");
        }
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", publicNamespace()));
        full.addAll(List.of(command));
        return Shell.run(timeout, full);
    }

    public String hostNamespace(String host) {
        return LabNames.hostNamespace(name(), host);
    }

    public CountersReader counters(String host) {
        return CountersReader.open(LabNames.countersFile(name(), host));
    }

    /** A client of the controller's REST API on its Unix socket; the caller closes it. */
    public ApiClient api() {
        return ApiClient.connect(LabNames.controllerEndpoint(name()));
    }

    public List<String> down() {
        return Lab.down(name());
    }
}
