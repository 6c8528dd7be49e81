package dev.vnet.controller.channel;

import dev.vnet.wire.Ipv4Address;

/** What a {@link Route} is found by: an address in a virtual network. */
public record RouteKey(long networkId, int address) {
    public static final long MAX_NETWORK_ID = 0xFFFF_FFFFL;

    public RouteKey {
        checkNetworkId(networkId);
    }

    static void checkNetworkId(long networkId) {
        if (networkId < 1 || networkId > MAX_NETWORK_ID) {
            throw new IllegalArgumentException("network id " + networkId + " is not 1-" + MAX_NETWORK_ID);
        }
    }

    @Override
    public String toString() {
        return networkId + "/" + Ipv4Address.toString(address);
    }
}
