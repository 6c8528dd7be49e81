package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

/**
 * A VM and what the registry assigned it, without its key (see {@link VmAssignment}).
 *
 * @param address its IPv4 address in its network ({@link Ipv4Address} int form)
 * @param mac     48 bits ({@link MacAddress} long form), 02:56:4e:xx:xx:xx
 * @param port    the UDP port on its host reserved for its VNP traffic
 */
public record Vm(String name, String network, long networkId, String host, int address, long mac, int port) {
    @Override
    public String toString() {
        return "Vm[" + name + " " + network + "(" + networkId + ") " + Ipv4Address.toString(address) + " "
                + MacAddress.toString(mac) + " on " + host + ":" + port + "]";
    }
}
