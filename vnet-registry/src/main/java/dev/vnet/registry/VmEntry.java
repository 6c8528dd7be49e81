package dev.vnet.registry;

/**
 * A VM in the registry's memory. The key array is never handed out or changed (callers get copies), so
 * its identity can key the per-thread HMAC cache.
 */
record VmEntry(Vm vm, byte[] key, Host host, NetworkEntry network) {
}
