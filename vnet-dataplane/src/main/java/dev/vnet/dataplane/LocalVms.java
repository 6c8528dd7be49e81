package dev.vnet.dataplane;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.List;

/**
 * The VMs of this host, found by (network, address) so that a packet between two VMs of one network
 * on this host goes TAP to TAP without a token: the policy allows a network's VMs to talk, so there is
 * nothing to ask the registry. Immutable.
 */
public final class LocalVms {
    private final Long2ObjectHashMap<LocalVm> byNetworkAddress = new Long2ObjectHashMap<>();

    public LocalVms(List<LocalVm> vms) {
        for (LocalVm vm : vms) {
            if (byNetworkAddress.put(key(vm.networkId(), vm.address()), vm) != null) {
                throw new IllegalArgumentException("two VMs of network " + Integer.toUnsignedString(vm.networkId())
                        + " on this host have the address of " + vm.name());
            }
        }
    }

    private static long key(int networkId, int address) {
        return ((long) networkId << 32) | (address & 0xFFFF_FFFFL);
    }

    /** The local VM of {@code networkId} with {@code address}, or null. */
    public LocalVm find(int networkId, int address) {
        return byNetworkAddress.get(key(networkId, address));
    }
}
