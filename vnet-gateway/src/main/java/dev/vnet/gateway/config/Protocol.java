package dev.vnet.gateway.config;

import java.util.Locale;

/** The transport protocol of a load balancer's listener port; written {@code "tcp"} / {@code "udp"} in JSON. */
public enum Protocol {
    TCP(6), UDP(17);

    private final int ipProtocolNumber;

    Protocol(int ipProtocolNumber) {
        this.ipProtocolNumber = ipProtocolNumber;
    }

    /** The IPv4 header's protocol field for this protocol. */
    public int ipProtocolNumber() {
        return ipProtocolNumber;
    }

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
