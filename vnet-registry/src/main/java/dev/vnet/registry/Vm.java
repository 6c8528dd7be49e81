package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A VM and what the registry assigned it, without its key (see {@link VmAssignment}).
 *
 * @param address             its IPv4 address in its network ({@link Ipv4Address} int form)
 * @param mac                 48 bits ({@link MacAddress} long form), 02:56:4e:xx:xx:xx
 * @param port                the UDP port on its host reserved for its VNP traffic
 * @param additionalAddresses further addresses the VM owns (Neutron's allowed address pairs, such as a
 *                            load balancer's VIP the VM holds itself), in ascending unsigned order; set by
 *                            {@link RegistryService#setVmAdditionalAddresses}; never null
 */
public record Vm(String name, String network, long networkId, String host, int address, long mac, int port,
                 List<Integer> additionalAddresses) {
    public Vm {
        additionalAddresses = additionalAddresses == null ? List.of() : List.copyOf(additionalAddresses);
    }

    /** A VM without additional addresses. */
    public Vm(String name, String network, long networkId, String host, int address, long mac, int port) {
        this(name, network, networkId, host, address, mac, port, List.of());
    }

    /** The same VM owning {@code addresses} (and no others) besides its own address. */
    public Vm withAdditionalAddresses(List<Integer> addresses) {
        return new Vm(name, network, networkId, host, address, mac, port, addresses);
    }

    @Override
    public String toString() {
        return "Vm[" + name + " " + network + "(" + networkId + ") " + Ipv4Address.toString(address)
                + (additionalAddresses.isEmpty() ? "" : additionalAddresses.stream().map(Ipv4Address::toString)
                        .collect(Collectors.joining(",", " +", "")))
                + " " + MacAddress.toString(mac) + " on " + host + ":" + port + "]";
    }
}
