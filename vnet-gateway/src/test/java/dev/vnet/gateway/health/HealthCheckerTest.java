package dev.vnet.gateway.health;

import dev.vnet.gateway.config.ForwardingMode;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.gateway.hashing.MappingSpec;
import dev.vnet.gateway.path.Backend;
import dev.vnet.gateway.path.VipService;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

class HealthCheckerTest {
    private static VipService vip() {
        return new VipService("web", 1, 0x0A0A0A0A, new int[]{80}, new int[0], ForwardingMode.DNAT, FlowIdentity.FIVE_TUPLE,
                MappingSpec.DEFAULT, false, 300, List.of(new Backend("vm1", 1, 1, ""), new Backend("vm2", 1, 2, "")), "", 1, true);
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void downAfterDownThresholdFailuresAndUpAfterUpThresholdSuccesses() throws Exception {
        VipService vip = vip();
        AtomicBoolean answering = new AtomicBoolean(true);
        AtomicInteger probes = new AtomicInteger();
        Probe probe = (target, timeout) -> {
            probes.incrementAndGet();
            return answering.get();
        };
        try (HealthChecker checker = new HealthChecker()) {
            InetAddress any = InetAddress.getLoopbackAddress();
            checker.watch(List.of(new HealthChecker.Target(vip, 0, any, probe, 10, 5, 2, 3),
                    new HealthChecker.Target(vip, 1, any, (t, timeout) -> true, 10, 5, 2, 3)));
            await(() -> probes.get() > 5);
            assertThat(vip.isHealthy(0)).isTrue();
            answering.set(false);
            int before = probes.get();
            await(() -> !vip.isHealthy(0));
            assertThat(probes.get() - before).as("not before the third failure").isGreaterThanOrEqualTo(3);
            assertThat(vip.isHealthy(1)).isTrue();
            answering.set(true);
            await(() -> vip.isHealthy(0));
            assertThat(checker.transitions()).containsExactly("web/vm1 down", "web/vm1 up");

            // A new configuration of the same VIP keeps what is known: vm1 stays down until it passes again.
            answering.set(false);
            await(() -> !vip.isHealthy(0));
            VipService refreshed = vip();
            checker.watch(List.of(new HealthChecker.Target(refreshed, 0, any, probe, 10, 5, 2, 3)));
            assertThat(refreshed.isHealthy(0)).isFalse();
        }
    }

    @Test
    void tcpAndHttpProbesAgainstARealListener() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try (var socket = server.accept()) {
                        socket.getInputStream().read(new byte[1024]);
                        socket.getOutputStream().write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    } catch (java.io.IOException closed) {
                        return;
                    }
                }
            });
            InetAddress loopback = InetAddress.getLoopbackAddress();
            assertThat(Probe.tcp(server.getLocalPort()).check(loopback, 1000)).isTrue();
            assertThat(Probe.http(server.getLocalPort(), "/healthz", 204, "vip").check(loopback, 1000)).isTrue();
            assertThat(Probe.http(server.getLocalPort(), "/healthz", 200, "vip").check(loopback, 1000)).isFalse();
            int closedPort;
            try (ServerSocket other = new ServerSocket(0, 1, loopback)) {
                closedPort = other.getLocalPort();
            }
            assertThat(Probe.tcp(closedPort).check(loopback, 500)).isFalse();
        }
    }

    @Test
    void statusLineParsing() throws Exception {
        assertThat(Probe.statusOf(new ByteArrayInputStream("HTTP/1.1 503 Busy\r\n".getBytes()))).isEqualTo(503);
        assertThat(Probe.statusOf(new ByteArrayInputStream("SSH-2.0-OpenSSH\r\n".getBytes()))).isEqualTo(-1);
        assertThat(Probe.statusOf(new ByteArrayInputStream("HTTP/1.1 2x0\r\n".getBytes()))).isEqualTo(-1);
        assertThat(Probe.statusOf(new ByteArrayInputStream(new byte[0]))).isEqualTo(-1);
    }
}
