package dev.vnet.registry;

import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** A network in the registry's memory: its VMs by address, for the token path, and its gateways. */
final class NetworkEntry {
    final Network network;
    final ConcurrentHashMap<Integer, VmEntry> vmsByAddress = new ConcurrentHashMap<>();
    /** Address offsets in use, to the VM using each. Guarded by the registry's mutation lock. */
    final TreeMap<Long, String> vmsByOffset = new TreeMap<>();
    /** Null while the network has no gateway; replaced whole on every change. */
    volatile NetworkGateways gateways;

    NetworkEntry(Network network) {
        this.network = network;
    }
}
