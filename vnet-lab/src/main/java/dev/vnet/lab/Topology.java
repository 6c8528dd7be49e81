package dev.vnet.lab;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
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
 * # optional: load-balancing gateways on the underlay and the public side that reaches them
 * gateways: [{name: gw1, address: 10.255.0.21, public_address: 198.18.0.1, location: zone-a}, ...]
 * public:   {subnet: 192.0.2.0/24, vips: 203.0.113.0/24}   # these are the defaults when there are gateways
 * </pre>
 *
 * Hosts and gateways take an optional {@code location} (a label such as {@code zone-a}; default empty).
 * Gateways are numbered from 1 in topology order: gateway <i>i</i>'s link to the lab's public router
 * is {@code 198.19.<i>i</i>.0/30} ({@link #gatewayLinkRouterAddress}, {@link #gatewayLinkAddress}).
 */
public record Topology(String name, Underlay underlay, @JsonAlias("registry") Controller controller, List<Host> hosts, List<Network> networks,
                       List<Vm> vms, @JsonProperty("gateways") List<Gateway> gatewayList, @JsonProperty("public") Public publicSide) {
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

    public record Host(String name, String address, String location) {
        public Host(String name, String address) {
            this(name, address, null);
        }

        /** The host's location label, empty when the topology gives none. */
        @Override
        public String location() {
            return location == null ? "" : location;
        }
    }

    /**
     * A load-balancing gateway: a namespace on the underlay at {@code address} running {@code vnet gateway},
     * linked to the lab's public router; {@code public_address} is its own public address (egress).
     */
    public record Gateway(String name, String address, @JsonProperty("public_address") String publicAddress, String location) {
        /** The gateway's location label, empty when the topology gives none. */
        @Override
        public String location() {
            return location == null ? "" : location;
        }
    }

    /** The public side: the clients' subnet (behind the lab's router) and the prefix VIPs are taken from. */
    public record Public(String subnet, String vips) {
    }

    public static final String DEFAULT_PUBLIC_SUBNET = "192.0.2.0/24";
    public static final String DEFAULT_VIPS = "203.0.113.0/24";
    /** Gateway <i>i</i>'s link to the public router is {@code 198.19.i.0/30}; public addresses must stay out of it. */
    private static final String GATEWAY_LINKS = "198.19.0.0/16";
    private static final int MAX_GATEWAYS = 254;
    /** What the VNP encapsulation adds to a packet (outer IPv4, UDP, VNP header): the edge links' MTU is the underlay's minus this. */
    public static final int TUNNEL_OVERHEAD = 44;

    /** A topology as before gateways: no gateways and no public side. */
    public Topology(String name, Underlay underlay, Controller controller, List<Host> hosts, List<Network> networks, List<Vm> vms) {
        this(name, underlay, controller, hosts, networks, vms, null, null);
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

    /**
     * Three hosts in two locations, a VM on each, and two gateways (examples/gateways.yaml), shipped inside
     * the jar.
     */
    public static Topology gateways() {
        return builtIn("gateways.yaml");
    }

    public Topology withName(String newName) {
        Topology renamed = new Topology(newName, underlay, controller, hosts, networks, vms, gatewayList, publicSide);
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

    /**
     * The gateways ({@code gateways:} in YAML) in topology order; empty when the topology has none. Not
     * called {@code gateways()}: that is the built-in gateway topology.
     */
    @Override
    public List<Gateway> gatewayList() {
        return gatewayList == null ? List.of() : gatewayList;
    }

    public boolean hasGateways() {
        return !gatewayList().isEmpty();
    }

    public Gateway gateway(String gatewayName) {
        return gatewayList().stream().filter(g -> g.name().equals(gatewayName)).findFirst()
                .orElseThrow(() -> new LabException("no gateway named '" + gatewayName + "' in topology " + name));
    }

    /** Gateway {@code gatewayName}'s number, 1-based in topology order: its link is {@code 198.19.<number>.0/30}. */
    public int gatewayIndex(String gatewayName) {
        return gatewayList().indexOf(gateway(gatewayName)) + 1;
    }

    /** The clients' subnet on the public side, as configured or {@value #DEFAULT_PUBLIC_SUBNET}. */
    public String publicSubnet() {
        IPAddress subnet = subnet(publicSide != null && publicSide.subnet() != null ? publicSide.subnet() : DEFAULT_PUBLIC_SUBNET, "public");
        return subnet.toCanonicalString();
    }

    /** The prefix VIPs come from, as configured or {@value #DEFAULT_VIPS}: the public router spreads it over the gateways. */
    public String vips() {
        IPAddress vips = subnet(publicSide != null && publicSide.vips() != null ? publicSide.vips() : DEFAULT_VIPS, "public.vips");
        return vips.toCanonicalString();
    }

    public int publicPrefixLength() {
        return subnet(publicSubnet(), "public").getNetworkPrefixLength();
    }

    /** The public router's address on the clients' subnet (its first host address): the clients' default route. */
    public String publicRouterAddress() {
        return subnet(publicSubnet(), "public").getLower().increment(1).withoutPrefixLength().toCanonicalString();
    }

    /** The clients' address on the public subnet (its second host address). */
    public String publicClientAddress() {
        return subnet(publicSubnet(), "public").getLower().increment(2).withoutPrefixLength().toCanonicalString();
    }

    /** The public router's end of gateway {@code index}'s (1-based) /30 link: {@code 198.19.<index>.1}. */
    public static String gatewayLinkRouterAddress(int index) {
        return "198.19." + index + ".1";
    }

    /** The gateway's end of gateway {@code index}'s (1-based) /30 link: {@code 198.19.<index>.2}. */
    public static String gatewayLinkAddress(int index) {
        return "198.19." + index + ".2";
    }

    /** The MTU of the links between the public router and the gateways: the underlay's minus the tunnel's overhead. */
    public int edgeMtu() {
        return mtu() - TUNNEL_OVERHEAD;
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
        validateGateways(underlaySubnet, underlayAddresses, names);
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

    /** Gateways share the underlay with the controller and the hosts; their public side must not overlap anything. */
    private void validateGateways(IPAddress underlaySubnet, Set<IPAddress> underlayAddresses, Set<String> names) {
        if (!hasGateways()) {
            if (publicSide != null) {
                throw new LabException("public: the public side needs gateways");
            }
            return;
        }
        if (gatewayList().size() > MAX_GATEWAYS) {
            throw new LabException("a lab has at most " + MAX_GATEWAYS + " gateways, not " + gatewayList().size());
        }
        IPAddress links = subnet(GATEWAY_LINKS, "gateway links");
        IPAddress publicSubnet = subnet(publicSubnet(), "public");
        IPAddress vips = subnet(vips(), "public.vips");
        if (publicSubnet.getNetworkPrefixLength() > 30) {
            throw new LabException("public: subnet " + publicSubnet + " needs room for the router and a client (/30 or larger)");
        }
        for (IPAddress[] pair : new IPAddress[][]{{publicSubnet, vips}, {publicSubnet, underlaySubnet}, {vips, underlaySubnet},
                {publicSubnet, links}, {vips, links}}) {
            if (pair[0].overlaps(pair[1])) {
                throw new LabException("public: " + pair[0] + " overlaps " + pair[1]);
            }
        }
        Set<IPAddress> publicAddresses = new HashSet<>();
        for (Gateway gateway : gatewayList()) {
            String what = "gateway " + gateway.name();
            requireName("gateway", gateway.name(), names);
            IPAddress address = requireInside(address(gateway.address(), what), underlaySubnet, what);
            if (!underlayAddresses.add(address)) {
                throw new LabException(what + ": underlay address " + gateway.address() + " is used twice");
            }
            if (gateway.publicAddress() == null) {
                throw new LabException(what + ": needs public_address, e.g. 198.18.0.1");
            }
            IPAddress publicAddress = address(gateway.publicAddress(), what + ": public_address");
            if (!publicAddresses.add(publicAddress)) {
                throw new LabException(what + ": public_address " + gateway.publicAddress() + " is used twice");
            }
            for (IPAddress taken : List.of(underlaySubnet, publicSubnet, links)) {
                if (taken.contains(publicAddress)) {
                    throw new LabException(what + ": public_address " + gateway.publicAddress() + " is inside " + taken);
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
