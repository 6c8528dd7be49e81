package dev.vnet.registry;

import java.util.Arrays;

/**
 * A gateway as its own agent receives it: the network it serves and the key it verifies tokens with.
 * The key is never printed.
 */
public record GatewayAssignment(Gateway gateway, long networkId, Subnet subnet, byte[] key) {
    public GatewayAssignment {
        key = key.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof GatewayAssignment that && gateway.equals(that.gateway) && networkId == that.networkId
                && subnet.equals(that.subnet) && Arrays.equals(key, that.key);
    }

    @Override
    public int hashCode() {
        return gateway.hashCode() * 31 + Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "GatewayAssignment[" + gateway + " network " + networkId + " " + subnet + " key="
                + VmAssignment.KeyFingerprint.of(key) + "]";
    }
}
