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
