package dev.vnet.dataplane;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where every VM lives: hosts with their underlay addresses, virtual networks with their ids, and each
 * VM's network, host, addresses and namespace. The lab writes it from a topology file; every agent
 * reads the same file and serves the VMs of its own host. (The registry and controller issues replace
 * this static file with a live feed.)
 */
public record Placement(int underlayPort, int underlayMtu, List<Host> hosts, List<Network> networks, List<Vm> vms) {
    /** IPv4 (20) + UDP (8) + vnet header + Ethernet header (14): what a VM frame gains on the underlay. */
    public static final int OVERHEAD = 20 + 8 + dev.vnet.wire.VnetHeader.LENGTH + 14;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public record Host(String name, String underlayAddress) {
    }

    public record Network(String name, long id, String subnet) {
    }

    public record Vm(String name, String network, String host, String ip, String mac, String namespace, String tap) {
    }

    public Placement {
        hosts = List.copyOf(Objects.requireNonNull(hosts, "hosts"));
        networks = List.copyOf(Objects.requireNonNull(networks, "networks"));
        vms = List.copyOf(Objects.requireNonNull(vms, "vms"));
    }

    /** The MTU a VM's NIC must have so that one frame fits in one underlay datagram. */
    public int vmMtu() {
        return underlayMtu - OVERHEAD;
    }

    public Host host(String name) {
        return hosts.stream().filter(h -> h.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no host named '" + name + "' in the placement"));
    }

    public Network network(String name) {
        return networks.stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no network named '" + name + "' in the placement"));
    }

    /** Checks everything an agent relies on; the message names the offending entry. */
    public Placement validate() {
        if (underlayPort < 1 || underlayPort > 65535) {
            throw new IllegalArgumentException("underlay port must be 1-65535, not " + underlayPort);
        }
        if (underlayMtu < 576 || underlayMtu > 65535) {
            throw new IllegalArgumentException("underlay MTU must be 576-65535, not " + underlayMtu);
        }
        Set<String> names = new HashSet<>();
        Set<Integer> underlay = new HashSet<>();
        for (Host host : hosts) {
            requireName("host", host.name(), names);
            if (!underlay.add(Ipv4Address.parse(host.underlayAddress()))) {
                throw new IllegalArgumentException("host " + host.name() + ": underlay address "
                        + host.underlayAddress() + " is used twice");
            }
        }
        Set<Long> ids = new HashSet<>();
        for (Network network : networks) {
            requireName("network", network.name(), names);
            if (network.id() < 1 || network.id() > 0xFFFF_FFFFL || !ids.add(network.id())) {
                throw new IllegalArgumentException("network " + network.name() + ": id must be unique and 1-4294967295");
            }
        }
        Set<Long> macs = new HashSet<>();
        for (Vm vm : vms) {
            requireName("vm", vm.name(), names);
            network(vm.network());
            host(vm.host());
            Ipv4Address.parse(vm.ip());
            if (!macs.add(MacAddress.parse(vm.mac())) || MacAddress.isMulticast(MacAddress.parse(vm.mac()))) {
                throw new IllegalArgumentException("vm " + vm.name() + ": MAC " + vm.mac() + " is multicast or used twice");
            }
            if (vm.tap() == null || vm.tap().isEmpty() || vm.tap().length() > 15) {
                throw new IllegalArgumentException("vm " + vm.name() + ": TAP name must be 1-15 characters");
            }
        }
        return this;
    }

    private static void requireName(String kind, String name, Set<String> names) {
        if (name == null || !name.matches("[a-z][a-z0-9-]{0,19}")) {
            throw new IllegalArgumentException(kind + " name '" + name
                    + "' must be 1-20 characters: lowercase letters, digits, '-', starting with a letter");
        }
        if (!names.add(kind + ":" + name)) {
            throw new IllegalArgumentException(kind + " name '" + name + "' is used twice");
        }
    }

    public static Placement read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), Placement.class).validate();
    }

    public void write(Path file) throws IOException {
        JSON.writeValue(file.toFile(), this);
    }
}
