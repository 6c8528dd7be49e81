package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;

/**
 * A machine running an agent.
 *
 * @param name    the subject CN of its TLS certificate, which is how the registry knows it is calling
 * @param address its underlay IPv4 address ({@link Ipv4Address} int form)
 */
public record Host(String name, int address) {
    @Override
    public String toString() {
        return "Host[" + name + " " + Ipv4Address.toString(address) + "]";
    }
}
