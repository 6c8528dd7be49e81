package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;

/**
 * Where a network's VMs send packets for addresses outside its subnet. Its key is not here: only the
 * gateway's own agent receives it ({@link GatewayAssignment}).
 *
 * @param name the identity (certificate CN) of the gateway's agent
 */
public record Gateway(String network, String name, int address, int port) {
    @Override
    public String toString() {
        return "Gateway[" + network + " via " + name + " " + Ipv4Address.toString(address) + ":" + port + "]";
    }
}
