package dev.vnet.dataplane.sys;

import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The FFM socket path on loopback: what the agent's underlay thread does, without namespaces. */
class UdpSocketTest {
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");

    @Test
    void sendsAndReceivesADatagramThroughNativeBuffers() {
        try (UdpSocket receiver = UdpSocket.bind(LOOPBACK, 0); UdpSocket sender = UdpSocket.bind(LOOPBACK, 0);
             Arena arena = Arena.ofConfined()) {
            assertThat(receiver.localPort()).isPositive();
            Libc libc = new Libc();
            MemorySegment to = UdpSocket.socketAddress(arena, LOOPBACK, receiver.localPort());
            PacketBuffer out = PacketBuffer.allocate(arena, 64);
            for (int i = 0; i < 20; i++) {
                out.buffer().put(i, (byte) i);
            }
            assertThat(sender.send(libc, out, 3, 10, to)).isEqualTo(10);

            PacketBuffer in = PacketBuffer.allocate(arena, 64);
            assertThat(receiver.receive(libc, in, 0, 64)).isEqualTo(10);
            for (int i = 0; i < 10; i++) {
                assertThat(in.buffer().get(i)).isEqualTo((byte) (i + 3));
            }
        }
    }

    @Test
    void oneSegmentedSendArrivesAsOneGroBatchOrAsSeparateDatagrams() {
        try (UdpSocket gro = UdpSocket.bind(LOOPBACK, 0); UdpSocket plain = UdpSocket.bind(LOOPBACK, 0);
             UdpSocket sender = UdpSocket.bind(LOOPBACK, 0); Arena arena = Arena.ofConfined()) {
            gro.enableGro();
            Libc libc = new Libc();
            UdpSocket.Message message = new UdpSocket.Message(arena);
            PacketBuffer out = PacketBuffer.allocate(arena, 4096);
            for (int i = 0; i < 350; i++) {
                out.buffer().put(i, (byte) i);
            }
            assertThat(sender.sendSegmented(libc, message, out, 0, 350, 100,
                    UdpSocket.socketAddress(arena, LOOPBACK, gro.localPort()))).isEqualTo(350);
            assertThat(sender.sendSegmented(libc, message, out, 0, 350, 100,
                    UdpSocket.socketAddress(arena, LOOPBACK, plain.localPort()))).isEqualTo(350);

            PacketBuffer in = PacketBuffer.allocate(arena, 65536);
            UdpSocket.Message received = new UdpSocket.Message(arena);
            assertThat(gro.receiveBatch(libc, received, in, 0, 65536)).isEqualTo(350);
            assertThat(received.segmentSize()).isEqualTo(100);
            assertThat(received.senderAddress()).isEqualTo(LOOPBACK);
            assertThat(received.senderPort()).isEqualTo(sender.localPort());
            for (int i = 0; i < 350; i++) {
                assertThat(in.buffer().get(i)).isEqualTo((byte) i);
            }
            int[] sizes = new int[4];
            for (int i = 0; i < 4; i++) {
                sizes[i] = plain.receiveBatch(libc, received, in, 0, 65536);
                assertThat(received.segmentSize()).isEqualTo(sizes[i]);
            }
            assertThat(sizes).containsExactly(100, 100, 100, 50);
        }
    }

    @Test
    void bindingATakenPortFailsWithTheErrno() {
        try (UdpSocket first = UdpSocket.bind(LOOPBACK, 0)) {
            assertThatThrownBy(() -> UdpSocket.bind(LOOPBACK, first.localPort()))
                    .isInstanceOf(NativeException.class)
                    .hasMessageContaining("bind(127.0.0.1:" + first.localPort() + ")")
                    .hasMessageContaining("Address already in use");
        }
    }

    @Test
    void closeWakesABlockedReceiver() throws Exception {
        UdpSocket socket = UdpSocket.bind(LOOPBACK, 0);
        int[] result = {Integer.MIN_VALUE};
        Thread receiver = Thread.ofPlatform().start(() -> {
            PacketBuffer in = PacketBuffer.allocate(64);
            result[0] = socket.receive(new Libc(), in, 0, 64);
        });
        Thread.sleep(100);
        socket.close();
        receiver.join(5_000);
        assertThat(receiver.isAlive()).isFalse();
        assertThat(result[0]).isLessThanOrEqualTo(0);
    }
}
