package dev.vnet.lab;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.vnet.dataplane.Placement;
import dev.vnet.wire.MacAddress;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A lab topology as written in YAML: the underlay subnet, hosts with their underlay addresses, tenant
 * virtual networks (whose subnets may overlap), and VMs with a static address on a network and a host.
 *
 * <pre>
 * name: demo
 * underlay: {subnet: 10.255.0.0/24, mtu: 1500, port: 47900}
 * hosts:    [{name: host1, address: 10.255.0.1}, ...]
 * networks: [{name: blue, id: 100, subnet: 10.0.0.0/24}, ...]
 * vms:      [{name: blue1, network: blue, host: host1, ip: 10.0.0.1}, ...]   # mac: optional
 * </pre>
 */
public record Topology(String name, Underlay underlay, List<Host> hosts, List<Network> networks, List<Vm> vms) {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    /** Locally administered, unicast; "VN" in the second and third bytes. */
    private static final long MAC_BASE = 0x02_56_4E_00_00_00L;

    public record Underlay(String subnet, Integer mtu, Integer port) {
    }

    public record Host(String name, String address) {
    }

    public record Network(String name, long id, String subnet) {
    }

    public record Vm(String name, String network, String host, String ip, String mac) {
    }

    public static Topology read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new LabException("topology file " + file + " does not exist");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        } catch (IOException e) {
            throw new LabException("cannot read topology " + file + ": " + e.getMessage(), e);
        }
    }

    public static Topology parse(InputStream in, String source) {
        try {
            byte[] text = in.readAllBytes();
            Topology topology = new String(text, java.nio.charset.StandardCharsets.UTF_8).isBlank()
                    ? null : YAML.readValue(text, Topology.class);
            if (topology == null) {
                throw new LabException("topology " + source + " is empty");
            }
            topology.validate();
            return topology;
        } catch (JsonMappingException e) {
            throw new LabException("topology " + source + ": " + e.getOriginalMessage()
                    + " at " + e.getPathReference(), e);
        } catch (IOException e) {
            throw new LabException("topology " + source + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    /** The demo's topology, shipped inside the jar. */
    public static Topology demo() {
        try (InputStream in = Topology.class.getResourceAsStream("demo.yaml")) {
            return parse(in, "demo.yaml");
        } catch (IOException e) {
            throw new LabException("cannot read the built-in demo topology", e);
        }
    }

    public Topology withName(String newName) {
        Topology renamed = new Topology(newName, underlay, hosts, networks, vms);
        renamed.validate();
        return renamed;
    }

    public int mtu() {
        return underlay.mtu() == null ? 1500 : underlay.mtu();
    }

    public int port() {
        return underlay.port() == null ? dev.vnet.wire.VnetHeader.DEFAULT_PORT : underlay.port();
    }

    /** Everything that must hold before any namespace is created; messages name the entry. */
    void validate() {
        if (name == null || !name.matches("[a-z][a-z0-9]{0,9}")) {
            throw new LabException("lab name '" + name + "' must be 1-10 lowercase letters or digits, starting with a letter");
        }
        if (underlay == null || underlay.subnet() == null) {
            throw new LabException("topology needs underlay.subnet, e.g. 10.255.0.0/24");
        }
        if (hosts == null || hosts.isEmpty() || networks == null || vms == null) {
            throw new LabException("topology needs hosts, networks and vms");
        }
        IPAddress underlaySubnet = subnet(underlay.subnet(), "underlay");
        for (Host host : hosts) {
            IPAddress address = address(host.address(), "host " + host.name());
            if (!underlaySubnet.contains(address)) {
                throw new LabException("host " + host.name() + ": " + host.address() + " is outside the underlay " + underlay.subnet());
            }
        }
        Map<String, IPAddress> subnets = new HashMap<>();
        for (Network network : networks) {
            subnets.put(network.name(), subnet(network.subnet(), "network " + network.name()));
        }
        for (Vm vm : vms) {
            IPAddress subnet = subnets.get(vm.network());
            if (subnet == null) {
                throw new LabException("vm " + vm.name() + ": no network named '" + vm.network() + "'");
            }
            IPAddress ip = address(vm.ip(), "vm " + vm.name());
            if (!subnet.contains(ip) || ip.equals(subnet.getLower()) || ip.equals(subnet.getUpper())) {
                throw new LabException("vm " + vm.name() + ": " + vm.ip() + " is not a host address of " + subnet);
            }
        }
        try {
            toPlacement();
        } catch (IllegalArgumentException e) {
            throw new LabException("topology: " + e.getMessage(), e);
        }
    }

    private static IPAddress subnet(String text, String what) {
        IPAddress subnet = new IPAddressString(text).getAddress();
        if (subnet == null || !subnet.isIPv4() || !subnet.isPrefixed()) {
            throw new LabException(what + ": subnet '" + text + "' must be IPv4 CIDR, e.g. 10.0.0.0/24");
        }
        return subnet.toPrefixBlock();
    }

    private static IPAddress address(String text, String what) {
        IPAddress address = text == null ? null : new IPAddressString(text).getAddress();
        if (address == null || !address.isIPv4() || address.isPrefixed()) {
            throw new LabException(what + ": address '" + text + "' must be a plain IPv4 address");
        }
        return address;
    }

    /** The prefix length of a VM's network, for the address the guest configures. */
    public int prefixLength(String networkName) {
        return networks.stream().filter(n -> n.name().equals(networkName)).findFirst()
                .map(n -> subnet(n.subnet(), n.name()).getNetworkPrefixLength())
                .orElseThrow();
    }

    public int underlayPrefixLength() {
        return subnet(underlay.subnet(), "underlay").getNetworkPrefixLength();
    }

    /** What every agent of this lab reads: namespaces, TAP names and MACs assigned in a stable way. */
    public Placement toPlacement() {
        List<Placement.Host> placedHosts = hosts.stream()
                .map(h -> new Placement.Host(h.name(), h.address())).toList();
        List<Placement.Network> placedNetworks = networks.stream()
                .map(n -> new Placement.Network(n.name(), n.id(), n.subnet())).toList();
        List<Placement.Vm> placedVms = new ArrayList<>();
        Map<String, Integer> tapsPerHost = new HashMap<>();
        for (int i = 0; i < vms.size(); i++) {
            Vm vm = vms.get(i);
            String mac = vm.mac() != null ? vm.mac() : MacAddress.toString(MAC_BASE + i + 1);
            int tapIndex = tapsPerHost.merge(vm.host(), 1, Integer::sum);
            placedVms.add(new Placement.Vm(vm.name(), vm.network(), vm.host(), vm.ip(), mac,
                    LabNames.vmNamespace(name, vm.name()), "vtap" + tapIndex));
        }
        return new Placement(port(), mtu(), placedHosts, placedNetworks, placedVms).validate();
    }
}
