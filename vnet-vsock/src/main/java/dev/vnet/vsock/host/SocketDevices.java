package dev.vnet.vsock.host;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.mapper.VmPolicies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A host's virtual socket devices, one per VM, as the agent (or {@code vnet vsock host}) runs them: a
 * device is added when a VM is placed here and its namespace exists, removed with the VM. The per-VM
 * policies are the JSON files of one directory, read again every second; a bad file leaves the
 * previous policies in force (reported once). Counters of every device and of the mapper go to a
 * status file every second.
 */
public final class SocketDevices implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SocketDevices.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path policyDirectory;
    private final Path statusFile;
    private final VmPolicies policies = new VmPolicies();
    private final SocketMapper mapper = new SocketMapper(policies);
    private final HostCounters counters = new HostCounters();
    private final Map<String, HostDevice> devices = new ConcurrentHashMap<>();
    private final Thread housekeeping;
    private volatile boolean closed;
    private String lastReloadError;

    private SocketDevices(Path policyDirectory, Path statusFile) {
        this.policyDirectory = policyDirectory;
        this.statusFile = statusFile;
        reload();
        this.housekeeping = Thread.ofPlatform().name("vsock-devices").daemon().start(this::everySecond);
    }

    /**
     * @param policyDirectory the per-VM policy files ({@code *.json}); created when missing
     * @param statusFile      where the counters go every second, or null
     */
    public static SocketDevices start(Path policyDirectory, Path statusFile) throws IOException {
        Files.createDirectories(policyDirectory);
        return new SocketDevices(policyDirectory, statusFile);
    }

    public HostCounters counters() {
        return counters;
    }

    public SocketMapper mapper() {
        return mapper;
    }

    /** Gives VM {@code vm} its device in network namespace {@code namespace}; a VM that has one keeps it. */
    public void add(String vm, String namespace) {
        devices.computeIfAbsent(vm, name -> {
            try {
                return HostDevice.inNamespace(name, namespace, mapper, counters);
            } catch (IOException | RuntimeException e) {
                LOG.warn("vm {}: no socket device: {}", name, e.getMessage());
                return null;
            }
        });
    }

    /** Removes VM {@code vm}'s device and ends its sessions. */
    public void remove(String vm) {
        HostDevice device = devices.remove(vm);
        if (device != null) {
            device.close();
        }
    }

    public boolean has(String vm) {
        return devices.containsKey(vm);
    }

    private void everySecond() {
        while (!closed) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            reload();
            writeStatus();
        }
    }

    private void reload() {
        try {
            policies.reload(policyDirectory);
            lastReloadError = null;
        } catch (IOException | IllegalArgumentException e) {
            if (!e.getMessage().equals(lastReloadError)) {
                LOG.warn("socket offload policies not reloaded, the previous ones stay: {}", e.getMessage());
                lastReloadError = e.getMessage();
            }
        }
    }

    private void writeStatus() {
        if (statusFile == null) {
            return;
        }
        ObjectNode status = JSON.createObjectNode();
        status.put("state", "running");
        status.putArray("vms").addAll(devices.keySet().stream().sorted().map(JSON.getNodeFactory()::textNode).toList());
        ObjectNode values = status.putObject("counters");
        counters.snapshot().forEach(values::put);
        mapper.counters().snapshot().forEach((key, value) -> values.put("mapper." + key, value));
        try {
            Path temporary = statusFile.resolveSibling(statusFile.getFileName() + ".tmp");
            Files.writeString(temporary, JSON.writeValueAsString(status));
            Files.move(temporary, statusFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warn("cannot write {}: {}", statusFile, e.getMessage());
        }
    }

    @Override
    public void close() {
        closed = true;
        housekeeping.interrupt();
        devices.values().forEach(HostDevice::close);
        devices.clear();
    }
}
