package dev.vnet.dataplane.sys;

import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The forwarding threads' wait: non-blocking reads, poll when idle, spin only within the window. */
class ReadinessWaitTest {
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");

    @Test
    void aNonBlockingReceiveFindsNothingThenPollWakesForTheDatagram() throws Exception {
        try (UdpSocket receiver = UdpSocket.bind(LOOPBACK, 0); UdpSocket sender = UdpSocket.bind(LOOPBACK, 0);
             Arena arena = Arena.ofShared()) {
            Libc libc = new Libc();
            UdpSocket.Message message = new UdpSocket.Message(arena);
            PacketBuffer in = PacketBuffer.allocate(arena, 2048);
            assertThat(receiver.receiveBatch(libc, message, in, 0, 2048, Libc.MSG_DONTWAIT)).isEqualTo(-Libc.EAGAIN);

            ReadinessWait wait = new ReadinessWait(libc, 0, arena, receiver.fd());
            CompletableFuture<Boolean> waited = CompletableFuture.supplyAsync(() -> {
                boolean ok = true;
                while (ok && receiver.receiveBatch(libc, message, in, 0, 2048, Libc.MSG_DONTWAIT) == -Libc.EAGAIN) {
                    ok = wait.idle();
                }
                return ok;
            });
            PacketBuffer out = PacketBuffer.allocate(arena, 64);
            out.buffer().put(0, (byte) 42);
            assertThat(sender.send(new Libc(), out, 0, 1, UdpSocket.socketAddress(arena, LOOPBACK, receiver.localPort())))
                    .isEqualTo(1);
            assertThat(waited.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(in.buffer().get(0)).isEqualTo((byte) 42);
        }
    }

    @Test
    void withNothingToReadItSleepsInPollAndReturnsSoAStoppingThreadNoticesIt() {
        try (UdpSocket idle = UdpSocket.bind(LOOPBACK, 0); Arena arena = Arena.ofConfined()) {
            ReadinessWait wait = new ReadinessWait(new Libc(), 0, arena, idle.fd());
            assertThat(wait.idle()).isTrue();
            assertThat(wait.idle()).isTrue();
            assertThat(wait.sleeps()).isEqualTo(2);
        }
    }

    @Test
    void withinTheSpinWindowItRetriesWithoutSleeping() {
        try (UdpSocket idle = UdpSocket.bind(LOOPBACK, 0); Arena arena = Arena.ofConfined()) {
            ReadinessWait wait = new ReadinessWait(new Libc(), TimeUnit.HOURS.toNanos(1), arena, idle.fd());
            wait.activity();
            for (int i = 0; i < 100; i++) {
                assertThat(wait.idle()).isTrue();
            }
            assertThat(wait.sleeps()).isZero();
        }
    }

    @Test
    void aClosedDescriptorEndsTheWaitInsteadOfHangingIt() {
        try (Arena arena = Arena.ofConfined()) {
            UdpSocket socket = UdpSocket.bind(LOOPBACK, 0);
            ReadinessWait wait = new ReadinessWait(new Libc(), 0, arena, socket.fd());
            socket.close();
            assertThat(wait.idle()).isTrue(); // POLLNVAL: the caller's next read reports EBADF and it stops
            assertThat(wait.sleeps()).isEqualTo(1);
        }
    }

    @Test
    void rejectsANegativeSpinAndAnEmptySet() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> new ReadinessWait(new Libc(), -1, arena, 0)).hasMessageContaining(">= 0");
            assertThatThrownBy(() -> new ReadinessWait(new Libc(), 0, arena)).hasMessageContaining("nothing to wait");
        }
    }
}
