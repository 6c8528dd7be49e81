package dev.vnet.dataplane;

/** Where a VM's NIC is reachable: on a TAP of this host, or behind another host's agent. */
public sealed interface Endpoint permits VmPort, RemoteVm {
    String vmName();

    int networkId();

    long mac();

    int ip();
}
