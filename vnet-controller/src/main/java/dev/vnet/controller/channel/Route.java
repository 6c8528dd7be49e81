package dev.vnet.controller.channel;

import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.util.Objects;

/**
 * Where a VM of a virtual network lives, as every host with a VM in that network needs it: packets to
 * {@code address} in network {@code networkId} are encapsulated and sent to
 * {@code hostAddress:hostPort}. Keyed by {@link #key()}.
 *
 * @param address       the VM's IPv4 address ({@link Ipv4Address} int form)
 * @param mac           the VM's MAC ({@link MacAddress} long form)
 * @param hostAddress   the underlay address of the VM's host
 * @param hostPort      the UDP port on that host reserved for the VM
 * @param encapsulation {@value #VNP} (the only one so far)
 */
public record Route(long networkId, int address, long mac, String hostName, int hostAddress, int hostPort, String vmId,
                    String encapsulation) {
    public static final String VNP = "vnp";

    public Route {
        RouteKey.checkNetworkId(networkId);
        Objects.requireNonNull(hostName, "hostName");
        checkPort(hostPort);
        Objects.requireNonNull(vmId, "vmId");
        Objects.requireNonNull(encapsulation, "encapsulation");
    }

    public RouteKey key() {
        return new RouteKey(networkId, address);
    }

    static void checkPort(int port) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port " + port + " is not 0-65535");
        }
    }

    @Override
    public String toString() {
        return "Route[" + networkId + "/" + Ipv4Address.toString(address) + " " + MacAddress.toString(mac) + " -> " + hostName + " "
                + Ipv4Address.toString(hostAddress) + ":" + hostPort + " " + vmId + " " + encapsulation + "]";
    }
}
