package dev.vnet.gateway.health;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One health probe of one backend: true when it answered as expected within the timeout. Probes are
 * real packets through the virtual network: the target is the backend's probe address, which the
 * gateway's public forwarder tunnels to the VM (see {@code GatewayTables}).
 */
@FunctionalInterface
public interface Probe {
    boolean check(InetAddress target, int timeoutMillis);

    /** A TCP handshake to {@code port}. */
    static Probe tcp(int port) {
        return (target, timeout) -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(target, port), timeout);
                return true;
            } catch (IOException e) {
                return false;
            }
        };
    }

    /** An HTTP/1.0 GET of {@code path} whose status line must carry {@code expectedStatus}. */
    static Probe http(int port, String path, int expectedStatus, String hostHeader) {
        byte[] request = ("GET " + path + " HTTP/1.0\r\nHost: " + hostHeader + "\r\nUser-Agent: vnet-gateway-health\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        return (target, timeout) -> {
            long deadline = System.nanoTime() + timeout * 1_000_000L;
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(target, port), timeout);
                socket.setSoTimeout(Math.max(1, (int) ((deadline - System.nanoTime()) / 1_000_000)));
                OutputStream out = socket.getOutputStream();
                out.write(request);
                out.flush();
                return statusOf(socket.getInputStream()) == expectedStatus;
            } catch (IOException e) {
                return false;
            }
        };
    }

    /** An ICMP echo (the JDK sends a real echo request when the process may open a raw socket, as root). */
    static Probe icmp() {
        return (target, timeout) -> {
            try {
                return target.isReachable(timeout);
            } catch (IOException e) {
                return false;
            }
        };
    }

    /** The status code of an HTTP status line ("HTTP/1.x NNN ..."), or -1. */
    static int statusOf(InputStream in) throws IOException {
        byte[] line = new byte[64];
        int length = 0;
        int b;
        while (length < line.length && (b = in.read()) >= 0 && b != '\n') {
            line[length++] = (byte) b;
        }
        String status = new String(line, 0, length, StandardCharsets.US_ASCII);
        if (!status.startsWith("HTTP/1.") || status.length() < 12) {
            return -1;
        }
        try {
            return Integer.parseInt(status.substring(9, 12));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
