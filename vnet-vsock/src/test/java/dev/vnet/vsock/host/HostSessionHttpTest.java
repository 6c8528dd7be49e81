package dev.vnet.vsock.host;

import com.sun.net.httpserver.HttpServer;
import dev.vnet.vsock.guest.GuestClient;
import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.mapper.VmPolicies;
import dev.vnet.vsock.mapper.VmPolicy;
import dev.vnet.vsock.transport.SessionAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP handler behind a real session: a guest client and a host device on an abstract Unix
 * socket of this namespace (no root), the upstream a JDK HTTP server on loopback.
 */
class HostSessionHttpTest {
    private final HostCounters counters = new HostCounters();
    private HttpServer server;
    private HostDevice device;
    private GuestClient guest;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            byte[] body = ("served " + exchange.getRequestURI()).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        int port = server.getAddress().getPort();
        SocketMapper mapper = new SocketMapper(new VmPolicies(List.of(VmPolicy.parse("""
                {"vm": "vm1", "default": "deny",
                 "acl": [{"allow": "tcp://app[.]test:80"},
                         {"allow": "http://127[.]0[.]0[.]1:%1$d/ok.*"},
                         {"allow": "tcp://127[.]0[.]0[.]1:%1$d"}]}
                """.formatted(port), "test"))));
        SessionAddress address = new SessionAddress.AbstractUnix("vnet-http-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        device = HostDevice.at("vm1", address, mapper, counters);
        guest = GuestClient.connect(address, "test-guest");
    }

    @AfterEach
    void stop() {
        if (guest != null) {
            guest.close();
        }
        if (device != null) {
            device.close();
        }
        server.stop(0);
    }

    @Test
    void aConnectionToPort80IsProxiedAndEveryRequestDecided() throws IOException {
        int port = server.getAddress().getPort();
        try (GuestClient.OffloadedSocket socket = guest.connect("tcp://app.test:80")) {
            assertThat(socket.localUri()).as("connected at once, before any request").isEqualTo("tcp://0.0.0.0:0");

            socket.out().write(("GET /ok?1 HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String allowed = response(socket.in());
            assertThat(allowed).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nserved /ok?1");

            socket.out().write(("GET /secret HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String denied = response(socket.in());
            assertThat(denied).startsWith("HTTP/1.1 403 Forbidden\r\n").contains("Connection: close\r\n");
            assertThat(socket.in().read()).as("the host shut its side after the denial").isEqualTo(-1);
        }
        assertThat(counters.snapshot()).containsEntry("http.requests", 2L).containsEntry("http.allowed", 1L)
                .containsEntry("http.denied", 1L).containsEntry("connects", 1L);
        assertThat(counters.snapshot().get("bytes_to_guest")).isPositive();
        assertThat(counters.snapshot().get("bytes_from_guest")).isPositive();
    }

    @Test
    void aConnectionToAnotherPortIsStillPlainTcp() throws IOException {
        int port = server.getAddress().getPort();
        try (GuestClient.OffloadedSocket socket = guest.connect("tcp://127.0.0.1:" + port)) {
            assertThat(socket.localUri()).startsWith("tcp://127.0.0.1:");
            socket.out().write(("GET /anything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertThat(response(socket.in())).startsWith("HTTP/1.1 200 OK\r\n").endsWith("served /anything");
        }
        assertThat(counters.snapshot()).containsEntry("http.requests", 0L).containsEntry("connects", 1L);
    }

    /** One response with a Content-Length, as text. */
    private static String response(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("the response's head is complete").isNotNegative();
            head.write(b);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int length = text.lines().filter(line -> line.regionMatches(true, 0, "Content-Length:", 0, 15))
                .mapToInt(line -> Integer.parseInt(line.substring(15).strip())).findFirst().orElse(0);
        return text + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
