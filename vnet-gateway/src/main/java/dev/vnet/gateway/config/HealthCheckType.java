package dev.vnet.gateway.config;

import java.util.Locale;

/** How a gateway probes a backend; written {@code "icmp"}, {@code "tcp"}, {@code "http"} in JSON. */
public enum HealthCheckType {
    /** An ICMP echo to the backend's address. */
    ICMP,
    /** A TCP connection to the health port: up once it is accepted. */
    TCP,
    /** An HTTP GET of the path on the health port: up when it answers with the expected status. */
    HTTP;

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
