package dev.vnet.gateway.config;

/** A port a load balancer's VIP listens on: {@code {"protocol": "tcp", "port": 80}}. */
public record ListenerPort(Protocol protocol, int port) {
    public static final int MAX_PORT = 65_535;

    public ListenerPort {
        if (protocol == null) {
            throw new IllegalArgumentException("protocol is required: tcp or udp");
        }
        if (port < 1 || port > MAX_PORT) {
            throw new IllegalArgumentException("port must be 1 to " + MAX_PORT + ", not " + port);
        }
    }

    public static ListenerPort tcp(int port) {
        return new ListenerPort(Protocol.TCP, port);
    }

    public static ListenerPort udp(int port) {
        return new ListenerPort(Protocol.UDP, port);
    }

    @Override
    public String toString() {
        return protocol.jsonName() + ":" + port;
    }
}
