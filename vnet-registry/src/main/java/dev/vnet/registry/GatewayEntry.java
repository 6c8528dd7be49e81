package dev.vnet.registry;

/** A gateway in the registry's memory; the key array is never handed out or changed. */
record GatewayEntry(Gateway gateway, byte[] key) {
}
