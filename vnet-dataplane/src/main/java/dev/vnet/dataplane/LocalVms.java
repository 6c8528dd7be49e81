package dev.vnet.dataplane;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.List;

/**
 * The VMs of this host, found by (network, address) so that a packet between two VMs of one network
 * on this host goes TAP to TAP without a token: the policy allows a network's VMs to talk, so there is
 * nothing to ask the registry.
 *
 * <p>VMs come and go while packets flow (the controller adds and removes them), so the table is copy on
 * write: a change builds a new map and publishes it through a volatile field; a lookup reads the field
 * once and allocates nothing. Changes are rare and serialised by the agent.
 */
public final class LocalVms {
    private volatile Long2ObjectHashMap<LocalVm> byNetworkAddress = new Long2ObjectHashMap<>();

    public LocalVms() {
    }

    public LocalVms(List<LocalVm> vms) {
        vms.forEach(this::add);
    }

    /** Adds a VM; refused if a VM of its network on this host has its address. */
    public synchronized void add(LocalVm vm) {
        Long2ObjectHashMap<LocalVm> next = new Long2ObjectHashMap<>(byNetworkAddress);
        if (next.put(key(vm.networkId(), vm.address()), vm) != null) {
            throw new IllegalArgumentException("two VMs of network " + Integer.toUnsignedString(vm.networkId())
                    + " on this host have the address of " + vm.name());
        }
        byNetworkAddress = next;
    }

    /** Removes {@code vm} if it is the VM held for its address. */
    public synchronized void remove(LocalVm vm) {
        long key = key(vm.networkId(), vm.address());
        if (byNetworkAddress.get(key) == vm) {
            Long2ObjectHashMap<LocalVm> next = new Long2ObjectHashMap<>(byNetworkAddress);
            next.remove(key);
            byNetworkAddress = next;
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
