package dev.vnet.gateway.config;

/** How a gateway hands a VIP's packets to a backend VM. */
public enum ForwardingMode {
    /** Destination rewritten to the VM's private address; replies translated back statelessly. */
    DNAT,
    /** Unchanged: the VM owns the VIP itself (an additional address of its port). */
    UNCHANGED
}
