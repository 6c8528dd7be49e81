package dev.vnet.vsock.guest;

import dev.vnet.vsock.host.HostCounters;
import dev.vnet.vsock.host.HostDevice;
import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.mapper.VmPolicies;
import dev.vnet.vsock.mapper.VmPolicy;
import dev.vnet.vsock.transport.SessionAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The SOCKS5 front's first right of refusal and its fallback, with the JDK's own SOCKS client, a real
 * device over an abstract socket and loopback servers (no root): what is offloaded, what the guest's
 * own stack does, and that a denial is final.
 */
@Timeout(60)
class Socks5FrontTest {
    private final HostCounters counters = new HostCounters();
    private final List<AutoCloseable> closeable = new ArrayList<>();
    private final AtomicReference<GuestClient> session = new AtomicReference<>();
    private int offloadedPort;
    private int localPort;
    private int deniedPort;

    @BeforeEach
    void up() throws Exception {
        offloadedPort = echoServer();
        localPort = echoServer();
        deniedPort = echoServer();
        SocketMapper mapper = new SocketMapper(new VmPolicies(List.of(VmPolicy.parse("""
                {"vm": "vm1", "default": "deny", "acl": [{"allow": "tcp://127\\\\.0\\\\.0\\\\.1:%d"}]}
                """.formatted(offloadedPort), "vm1.json"))));
        SessionAddress address = new SessionAddress.AbstractUnix("vnet-test-" + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE));
        closeable.add(HostDevice.at("vm1", address, mapper, counters));
        session.set(GuestClient.connect(address, "vm1"));
        closeable.add(session.get());
    }

    @AfterEach
    void down() throws Exception {
        for (AutoCloseable c : closeable.reversed()) {
            c.close();
        }
    }

    private int echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        closeable.add(server);
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    Thread.ofVirtual().start(() -> {
                        try (socket) {
                            socket.getInputStream().transferTo(socket.getOutputStream());
                        } catch (IOException e) {
                            // gone
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server.getLocalPort();
    }

    private Socks5Front front(OffloadRules rules) throws IOException {
        Socks5Front front = new Socks5Front(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), session::get, rules).start();
        closeable.add(front);
        return front;
    }

    private static void echoThrough(Socks5Front front, int port) throws IOException {
        try (Socket socket = new Socket(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress(InetAddress.getLoopbackAddress(), front.port())))) {
            socket.connect(InetSocketAddress.createUnresolved("127.0.0.1", port), 5_000);
            socket.getOutputStream().write(42);
            assertThat(socket.getInputStream().read()).isEqualTo(42);
        }
    }

    @Test
    void rulesDecideWhatIsOffloadedAndWhatTheGuestsOwnStackDoes() throws Exception {
        Socks5Front front = front(OffloadRules.parse(List.of("local:tcp://127\\.0\\.0\\.1:" + localPort, "offload:.*")));
        echoThrough(front, offloadedPort);
        assertThat(counters.snapshot().get("connects")).isEqualTo(1);
        echoThrough(front, localPort);
        assertThat(counters.snapshot().get("connects")).as("the local rule kept it off the host").isEqualTo(1);
        assertThat(front.counters().offloaded.sum()).isEqualTo(1);
        assertThat(front.counters().local.sum()).isEqualTo(1);
    }

    @Test
    void aDenialIsFinalWhileAnUnreachableHostFallsBackToTheGuestsOwnStack() throws Exception {
        Socks5Front front = front(OffloadRules.offloadEverything());
        assertThatThrownBy(() -> echoThrough(front, deniedPort)).isInstanceOf(SocketException.class);
        assertThat(front.counters().denied.sum()).isEqualTo(1);
        assertThat(front.counters().local.sum()).as("no connection through the guest's stack either").isZero();
        session.get().close(); // the host device is gone for this guest
        echoThrough(front, deniedPort);
        assertThat(front.counters().local.sum()).isEqualTo(1);
        assertThat(front.counters().fallbacks.sum()).isEqualTo(1);
    }

    @Test
    void badRulesAreRefusedWithTheirIndex() {
        assertThatThrownBy(() -> OffloadRules.parse(List.of("offload:.*", "sometimes:.*"))).hasMessageContaining("rule 1");
        assertThatThrownBy(() -> OffloadRules.parse(List.of("local:(unclosed"))).hasMessageContaining("rule 0");
        OffloadRules rules = OffloadRules.parse(List.of("local:udp://.*"));
        assertThat(rules.offloads("udp://10.0.0.1:53")).isFalse();
        assertThat(rules.offloads("tcp://10.0.0.1:53")).isTrue();
    }
}
