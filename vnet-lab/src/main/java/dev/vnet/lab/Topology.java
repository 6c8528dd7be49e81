package dev.vnet.lab;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A lab topology as written in YAML: the underlay subnet (and where the controller sits on it), hosts
 * with their underlay addresses, tenant virtual networks (whose subnets may overlap), and VMs on a
 * network and a host, with an address or none (then the controller picks one).
 *
 * <pre>
 * name: demo
 * underlay: {subnet: 10.255.0.0/24, mtu: 1500}
 * controller: {address: 10.255.0.254, port: 47800}    # optional; these are the defaults
 * hosts:    [{name: host1, address: 10.255.0.1}, ...]
 * networks: [{name: blue, id: 100, subnet: 10.0.0.0/24}, ...]
 * vms:      [{name: blue1, network: blue, host: host1, ip: 10.0.0.11}, ...]   # ip optional
 * </pre>
 */
public record Topology(String name, Underlay underlay, @JsonAlias("registry") Controller controller, List<Host> hosts, List<Network> networks,
                       List<Vm> vms) {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    private static final String NAME = "[a-z][a-z0-9-]{0,19}";
    public static final int DEFAULT_CONTROLLER_PORT = 47800;

    public record Underlay(String subnet, Integer mtu) {
    }

    /**
     * Where the controller listens for agents (its gRPC with mutual TLS); {@code registry:} is an old name
     * for it. With {@code nodes} above 1 the lab runs that many controller nodes sharing an etcd store, at
     * {@code address} and the addresses just below it.
     */
    public record Controller(String address, Integer port, Integer nodes) {
        public Controller(String address, Integer port) {
            this(address, port, null);
        }
    }

    public record Host(String name, String address) {
    }

    public record Network(String name, long id, String subnet) {
    }

    public record Vm(String name, String network, String host, String ip) {
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
            Topology topology = new String(text, StandardCharsets.UTF_8).isBlank() ? null : YAML.readValue(text, Topology.class);
            if (topology == null) {
                throw new LabException("topology " + source + " is empty");
            }
            topology.validate();
            return topology;
        } catch (JsonMappingException e) {
            throw new LabException("topology " + source + ": " + e.getOriginalMessage() + " at " + e.getPathReference(), e);
        } catch (IOException e) {
            throw new LabException("topology " + source + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    /** The demo's topology, shipped inside the jar. */
    public static Topology demo() {
        return builtIn("demo.yaml");
    }

    /** Two controller nodes on etcd and four hosts (examples/cluster.yaml), shipped inside the jar. */
    public static Topology cluster() {
        return builtIn("cluster.yaml");
    }

    private static Topology builtIn(String resource) {
        try (InputStream in = Topology.class.getResourceAsStream(resource)) {
            return parse(in, resource);
        } catch (IOException e) {
            throw new LabException("cannot read the built-in topology " + resource, e);
        }
    }

    public Topology withName(String newName) {
        Topology renamed = new Topology(newName, underlay, controller, hosts, networks, vms);
        renamed.validate();
        return renamed;
    }

    public int mtu() {
        return underlay.mtu() == null ? 1500 : underlay.mtu();
    }

    /** Where the controller listens on the underlay: as configured, else the subnet's last host address. */
    public String controllerAddress() {
        if (controller != null && controller.address() != null) {
            return controller.address();
        }
        IPAddress last = subnet(underlay.subnet(), "underlay").getUpper().increment(-1);
        return last.withoutPrefixLength().toCanonicalString();
    }

    /** How many controller nodes the lab runs (1: a single controller with its embedded store). */
    public int controllerNodes() {
        return controller != null && controller.nodes() != null ? controller.nodes() : 1;
    }

    /** The underlay address of controller node {@code index} (0-based): the controller's address, then downwards. */
    public String controllerAddress(int index) {
        return address(controllerAddress(), "controller").increment(-index).withoutPrefixLength().toCanonicalString();
    }

    public int controllerPort() {
        return controller != null && controller.port() != null ? controller.port() : DEFAULT_CONTROLLER_PORT;
    }

    public int underlayPrefixLength() {
        return subnet(underlay.subnet(), "underlay").getNetworkPrefixLength();
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
        if (mtu() < 576 || mtu() > 65535) {
            throw new LabException("underlay.mtu must be 576-65535, not " + mtu());
        }
        IPAddress underlaySubnet = subnet(underlay.subnet(), "underlay");
        Set<String> names = new HashSet<>();
        Set<IPAddress> underlayAddresses = new HashSet<>();
        if (controllerNodes() < 1 || controllerNodes() > 5) {
            throw new LabException("controller.nodes must be 1-5, not " + controllerNodes());
        }
        for (int node = 0; node < controllerNodes(); node++) {
            String what = controllerNodes() == 1 ? "controller" : "controller node " + (node + 1);
            underlayAddresses.add(requireInside(address(controllerAddress(node), what), underlaySubnet, what));
        }
        for (Host host : hosts) {
            requireName("host", host.name(), names);
            IPAddress address = requireInside(address(host.address(), "host " + host.name()), underlaySubnet, "host " + host.name());
            if (!underlayAddresses.add(address)) {
                throw new LabException("host " + host.name() + ": underlay address " + host.address() + " is used twice");
            }
        }
        Map<String, IPAddress> subnets = new HashMap<>();
        Set<Long> ids = new HashSet<>();
        for (Network network : networks) {
            requireName("network", network.name(), names);
            if (network.id() < 1 || network.id() > 0xFF_FFFFL || !ids.add(network.id())) {
                throw new LabException("network " + network.name() + ": id must be unique and 1-16777215");
            }
            subnets.put(network.name(), subnet(network.subnet(), "network " + network.name()));
        }
        Set<String> hostNames = new HashSet<>(hosts.stream().map(Host::name).toList());
        for (Vm vm : vms) {
            requireName("vm", vm.name(), names);
            IPAddress subnet = subnets.get(vm.network());
            if (subnet == null) {
                throw new LabException("vm " + vm.name() + ": no network named '" + vm.network() + "'");
            }
            if (!hostNames.contains(vm.host())) {
                throw new LabException("vm " + vm.name() + ": no host named '" + vm.host() + "'");
            }
            if (vm.ip() != null) {
                IPAddress ip = address(vm.ip(), "vm " + vm.name());
                if (!subnet.contains(ip) || ip.equals(subnet.getLower()) || ip.equals(subnet.getUpper())) {
                    throw new LabException("vm " + vm.name() + ": " + vm.ip() + " is not a host address of " + subnet);
                }
            }
        }
    }

    private static void requireName(String kind, String name, Set<String> names) {
        if (name == null || !name.matches(NAME)) {
            throw new LabException(kind + " name '" + name
                    + "' must be 1-20 characters: lowercase letters, digits, '-', starting with a letter");
        }
        if (!names.add(kind + ":" + name)) {
            throw new LabException(kind + " name '" + name + "' is used twice");
        }
    }

    private static IPAddress requireInside(IPAddress address, IPAddress subnet, String what) {
        if (!subnet.contains(address)) {
            throw new LabException(what + ": " + address + " is outside the underlay " + subnet);
        }
        return address;
    }

    private static IPAddress subnet(String text, String what) {
        IPAddress subnet = text == null ? null : new IPAddressString(text).getAddress();
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
}
