package dev.vnet.dataplane;

/** A VM on another host: its frames go to that host's agent in a vnet datagram. */
public record RemoteVm(String vmName, int networkId, long mac, int ip, RemoteHost host) implements Endpoint {
}
