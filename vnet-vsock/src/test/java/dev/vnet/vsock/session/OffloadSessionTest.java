package dev.vnet.vsock.session;

import dev.vnet.vsock.guest.GuestClient;
import dev.vnet.vsock.guest.OffloadException;
import dev.vnet.vsock.host.HostCounters;
import dev.vnet.vsock.host.HostDevice;
import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.mapper.VmPolicies;
import dev.vnet.vsock.mapper.VmPolicy;
import dev.vnet.vsock.transport.SessionAddress;
import dev.vnet.vsock.transport.SessionSocket;
import dev.vnet.vsock.transport.SessionSockets;
import dev.vnet.wire.vsock.FrameWriter;
import dev.vnet.wire.vsock.VsockFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A guest client and a host device talking over a real session (an abstract Unix socket in this
 * process's own namespace: no root needed) to real loopback servers: the protocol end to end in one
 * JVM, including credits, a stalled reader, denials and hostile frames.
 */
@org.junit.jupiter.api.Timeout(60)
class OffloadSessionTest {
    private final HostCounters counters = new HostCounters();
    private final List<AutoCloseable> closeable = new ArrayList<>();
    private SessionAddress address;
    private SocketMapper mapper;
    private int echoPort;
    private int firehosePort;
    private int udpPort;
    private int closedPort;

    @BeforeEach
    void up() throws Exception {
        ServerSocket echo = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        closeable.add(echo);
        echoPort = echo.getLocalPort();
        Thread.ofVirtual().start(() -> serve(echo, connection -> connection.getInputStream().transferTo(connection.getOutputStream())));
        ServerSocket firehose = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        closeable.add(firehose);
        firehosePort = firehose.getLocalPort();
        Thread.ofVirtual().start(() -> serve(firehose, connection -> {
            byte[] chunk = new byte[64 * 1024];
            OutputStream out = connection.getOutputStream();
            while (true) {
                out.write(chunk);
            }
        }));
        DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        closeable.add(udp);
        udpPort = udp.getLocalPort();
        Thread.ofVirtual().start(() -> {
            byte[] buffer = new byte[2048];
            try {
                while (true) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    udp.receive(packet);
                    udp.send(new DatagramPacket(buffer, packet.getLength(), packet.getSocketAddress()));
                }
            } catch (IOException e) {
                // closed
            }
        });
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = closed.getLocalPort(); // allowed, but nothing listens there any more
        }
        mapper = new SocketMapper(new VmPolicies(List.of(VmPolicy.parse("""
                {"vm": "vm1", "default": "deny",
                 "acl": [{"allow": "tcp://127\\\\.0\\\\.0\\\\.1:(%d|%d|%d)"}, {"allow": "udp://127\\\\.0\\\\.0\\\\.1:%d"},
                         {"allow": "dns://localhost"}]}
                """.formatted(echoPort, firehosePort, closedPort, udpPort), "vm1.json"))));
        address = new SessionAddress.AbstractUnix("vnet-test-" + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE));
        closeable.add(HostDevice.at("vm1", address, mapper, counters));
    }

    @AfterEach
    void down() throws Exception {
        for (AutoCloseable c : closeable.reversed()) {
            c.close();
        }
    }

    private interface Connection {
        void handle(Socket socket) throws IOException;
    }

    private static void serve(ServerSocket server, Connection handler) {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (socket) {
                        handler.handle(socket);
                    } catch (IOException e) {
                        // the peer went away
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    private GuestClient guest() throws IOException {
        GuestClient client = GuestClient.connect(address, "test");
        closeable.add(client);
        return client;
    }

    @Test
    void anOffloadedStreamCarriesMegabytesBothWaysIntactAndEndsCleanly() throws Exception {
        GuestClient client = guest();
        byte[] sent = new byte[5 << 20];
        new Random(3).nextBytes(sent);
        try (GuestClient.OffloadedSocket socket = client.connect("tcp://127.0.0.1:" + echoPort)) {
            assertThat(socket.localUri()).startsWith("tcp://127.0.0.1:");
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    socket.out().write(sent);
                    socket.out().close(); // SHUTDOWN(write): the echo server sees EOF and closes
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] received = socket.in().readAllBytes();
            writer.join();
            assertThat(received).isEqualTo(sent);
            assertThat(socket.receiveWindow()).as("a reader that keeps up grows its window")
                    .isGreaterThan(SocketStream.DEFAULT_WINDOW).isLessThanOrEqualTo(SocketStream.MAX_WINDOW);
        }
        assertThat(counters.snapshot()).containsEntry("connects", 1L).containsEntry("bytes_from_guest", (long) sent.length)
                .containsEntry("bytes_to_guest", (long) sent.length);
    }

    @Test
    void socketNamesOptionsPollAndHalfClosesWorkOnTheHostSocket() throws Exception {
        GuestClient client = guest();
        try (GuestClient.OffloadedSocket socket = client.connect("tcp://127.0.0.1:" + echoPort)) {
            assertThat(socket.peerName()).isEqualTo("tcp://127.0.0.1:" + echoPort);
            assertThat(socket.socketName()).isEqualTo(socket.localUri());
            assertThat(socket.option(VsockFrame.OPTION_TCP_NODELAY)).as("the host connects with TCP_NODELAY").isEqualTo(1);
            socket.setOption(VsockFrame.OPTION_TCP_NODELAY, 0);
            assertThat(socket.option(VsockFrame.OPTION_TCP_NODELAY)).isZero();
            socket.setOption(VsockFrame.OPTION_SO_KEEPALIVE, 1);
            assertThat(socket.option(VsockFrame.OPTION_SO_KEEPALIVE)).isEqualTo(1);
            assertThatThrownBy(() -> socket.option(99)).isInstanceOfSatisfying(OffloadException.class,
                    e -> assertThat(e.errno()).isEqualTo(Errno.ENOPROTOOPT));
            assertThat(socket.poll(VsockFrame.POLL_IN | VsockFrame.POLL_OUT)).as("nothing to read yet, room to write")
                    .isEqualTo(VsockFrame.POLL_OUT);
            socket.out().write("x".getBytes(StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while ((socket.poll(VsockFrame.POLL_IN) & VsockFrame.POLL_IN) == 0) {
                assertThat(System.nanoTime()).as("the echo arrives").isLessThan(deadline);
                Thread.sleep(10);
            }
            assertThat(socket.in().read()).isEqualTo('x');
            socket.shutdownOutput(); // the echo server sees the end, and ends its side in turn
            assertThat(socket.in().read()).isEqualTo(-1);
        }
    }

    @Test
    void aStalledReaderStopsOnlyItsOwnSocketWhileOthersFlow() throws Exception {
        GuestClient client = guest();
        GuestClient.OffloadedSocket stalled = client.connect("tcp://127.0.0.1:" + firehosePort);
        assertThat(stalled.in().read()).isGreaterThanOrEqualTo(0); // flowing; from now on nobody reads it
        Thread.sleep(200); // the host has sent the whole window and now waits for credit
        long toGuest = counters.snapshot().get("bytes_to_guest");
        assertThat(toGuest).as("never more than the window in flight").isLessThanOrEqualTo(2L * SocketStream.DEFAULT_WINDOW);
        for (int i = 0; i < 20; i++) {
            try (GuestClient.OffloadedSocket socket = client.connect("tcp://127.0.0.1:" + echoPort)) {
                byte[] line = ("line " + i).getBytes(StandardCharsets.UTF_8);
                socket.out().write(line);
                assertThat(socket.in().readNBytes(line.length)).isEqualTo(line);
            }
        }
        assertThat(counters.snapshot().get("bytes_to_guest") - toGuest).as("the stalled socket got no more").isLessThan(1000);
        stalled.close();
    }

    @Test
    void deniedAndUnreachableDestinationsAnswerWithTheirErrno() throws Exception {
        GuestClient client = guest();
        assertThatThrownBy(() -> client.connect("tcp://127.0.0.1:1")).isInstanceOfSatisfying(OffloadException.class,
                e -> assertThat(e.denied()).isTrue());
        assertThatThrownBy(() -> client.connect("tcp://127.0.0.1:" + closedPort)).isInstanceOfSatisfying(OffloadException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.ECONNREFUSED));
        assertThat(counters.snapshot()).containsEntry("connect_failures", 1L);
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void datagramsAndNameLookupsGoThroughTheHost() throws Exception {
        GuestClient client = guest();
        try (GuestClient.OffloadedDatagramSocket socket = client.datagramSocket()) {
            byte[] question = "ping".getBytes(StandardCharsets.UTF_8);
            GuestClient.OffloadedDatagramSocket.Datagram answer = null;
            for (int attempt = 0; attempt < 5 && answer == null; attempt++) {
                socket.sendTo("udp://127.0.0.1:" + udpPort, question, 0, question.length);
                answer = socket.receive(1000);
            }
            assertThat(answer).isNotNull();
            assertThat(answer.source()).isEqualTo("udp://127.0.0.1:" + udpPort);
            assertThat(new String(answer.data(), StandardCharsets.UTF_8)).isEqualTo("ping");
        }
        assertThat(client.resolve("localhost")).anySatisfy(a -> assertThat(a.isLoopbackAddress()).isTrue());
        assertThatThrownBy(() -> client.resolve("example.org")).isInstanceOfSatisfying(OffloadException.class,
                e -> assertThat(e.denied()).isTrue());
    }

    @Test
    void hostileFramesEndThatSessionWithAGoodbyeAndTheDeviceServesTheNext() throws Exception {
        GuestClient healthy = guest();
        // A well-formed HELLO, then DATA beyond any credit for a socket that was never connected.
        ByteBuffer frames = ByteBuffer.allocateDirect(4096);
        int end = FrameWriter.hello(frames, 0, 1, VsockFrame.VERSION, VsockFrame.MAX_PAYLOAD, "hostile");
        end = FrameWriter.data(frames, end, 5, new byte[100], 0, 100);
        frames.limit(end);
        assertThat(goodbyeAfter(frames)).contains("DATA for socket 5, which does not exist");
        ByteBuffer garbage = ByteBuffer.allocateDirect(64);
        garbage.put(new byte[]{9, 9, 9, 9}).put(new byte[60]).flip();
        assertThat(goodbyeAfter(garbage)).contains("malformed frame");
        ByteBuffer noHello = ByteBuffer.allocateDirect(64);
        noHello.limit(FrameWriter.credit(noHello, 0, 1, 10));
        assertThat(goodbyeAfter(noHello)).contains("HELLO");
        assertThat(counters.snapshot()).containsEntry("violation.malformed", 1L).containsEntry("violation.no_hello", 1L)
                .containsEntry("violation.data_unknown_socket", 1L);
        try (GuestClient.OffloadedSocket socket = healthy.connect("tcp://127.0.0.1:" + echoPort)) {
            socket.out().write(1);
            assertThat(socket.in().read()).as("another session of the same VM is untouched").isEqualTo(1);
        }
    }

    @Test
    void aGuestSendingBeyondItsCreditLosesItsSession() throws Exception {
        ServerSocket neverReads = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        closeable.add(neverReads);
        List<Socket> held = new ArrayList<>();
        Thread.ofVirtual().start(() -> {
            try {
                held.add(neverReads.accept());
            } catch (IOException e) {
                // closed
            }
        });
        SocketMapper permissive = new SocketMapper(new VmPolicies(List.of(VmPolicy.parse(
                "{\"vm\": \"vm2\", \"default\": \"allow\", \"acl\": []}", "vm2.json"))));
        SessionAddress second = new SessionAddress.AbstractUnix("vnet-test-" + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE));
        closeable.add(HostDevice.at("vm2", second, permissive, counters));
        String uri = "tcp://127.0.0.1:" + neverReads.getLocalPort();
        try (SessionSocket socket = SessionSockets.connect(second)) {
            ByteBuffer out = ByteBuffer.allocateDirect(VsockFrame.MAX_FRAME_LENGTH * 4);
            int end = FrameWriter.hello(out, 0, 1, VsockFrame.VERSION, VsockFrame.MAX_PAYLOAD, "greedy");
            end = FrameWriter.create(out, end, 1, 2, VsockFrame.SOCKET_TYPE_STREAM, VsockFrame.FAMILY_IPV4);
            end = FrameWriter.connect(out, end, 1, 3, uri);
            out.limit(end);
            socket.writeFully(out);
            Thread.sleep(300); // connected by now; the CREDIT frames it sends back are never read
            byte[] chunk = new byte[VsockFrame.MAX_DATA_CHUNK];
            try {
                for (int i = 0; i < 16 * 1024 * 1024 / chunk.length && !socket.isClosed(); i++) {
                    out.clear();
                    out.limit(FrameWriter.data(out, 0, 1, chunk, 0, chunk.length));
                    socket.writeFully(out);
                }
            } catch (IOException e) {
                // the device closed the session while we were still sending: what this test wants
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (counters.snapshot().getOrDefault("violation.credit_exceeded", 0L) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(counters.snapshot()).containsEntry("violation.credit_exceeded", 1L);
        for (Socket s : held) {
            s.close();
        }
    }

    @Test
    void aListeningSocketOnTheHostHandsEachConnectionToTheGuest() throws Exception {
        SocketMapper listening = new SocketMapper(new VmPolicies(List.of(VmPolicy.parse(
                "{\"vm\": \"vm3\", \"default\": \"deny\", \"acl\": [{\"allow\": \"tcp://127\\\\.0\\\\.0\\\\.1:\\\\d+\"}]}",
                "vm3.json"))));
        SessionAddress third = new SessionAddress.AbstractUnix("vnet-test-" + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE));
        closeable.add(HostDevice.at("vm3", third, listening, counters));
        GuestClient client = GuestClient.connect(third, "listener");
        closeable.add(client);
        assertThatThrownBy(() -> client.listen("tcp://0.0.0.0:0", 4)).isInstanceOfSatisfying(OffloadException.class,
                e -> assertThat(e.denied()).as("only loopback listeners are allowed").isTrue());
        try (GuestClient.OffloadedListener listener = client.listen("tcp://127.0.0.1:0", 4)) {
            int port = Integer.parseInt(listener.boundUri().substring(listener.boundUri().lastIndexOf(':') + 1));
            assertThat(listener.boundUri()).isEqualTo("tcp://127.0.0.1:" + port);
            for (int i = 0; i < 3; i++) {
                try (Socket outside = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    GuestClient.OffloadedSocket accepted = listener.accept(5_000);
                    assertThat(accepted).isNotNull();
                    assertThat(accepted.localUri()).isEqualTo("tcp://127.0.0.1:" + outside.getLocalPort());
                    outside.getOutputStream().write(("hello " + i + "\n").getBytes(StandardCharsets.UTF_8));
                    byte[] line = accepted.in().readNBytes(8);
                    accepted.out().write(line);
                    assertThat(outside.getInputStream().readNBytes(8)).isEqualTo(("hello " + i + "\n").getBytes(StandardCharsets.UTF_8));
                    accepted.close();
                }
            }
        }
        assertThat(counters.snapshot()).containsEntry("accepts", 3L);
    }

    /** Sends {@code bytes} on a fresh session and returns the reason of the GOODBYE that came back. */
    private String goodbyeAfter(ByteBuffer bytes) throws IOException {
        try (SessionSocket socket = SessionSockets.connect(address)) {
            Thread.ofVirtual().start(() -> { // a device that never answers must fail the test, not hang it
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    return;
                }
                socket.close();
            });
            socket.writeFully(bytes);
            ByteBuffer in = ByteBuffer.allocateDirect(8192);
            while (socket.read(in) > 0) {
                // until the device closes
            }
            in.flip();
            int at = 0;
            while (at + VsockFrame.HEADER_LENGTH <= in.limit()) {
                int op = in.get(at + VsockFrame.OP_OFFSET) & 0xFF;
                int length = in.getInt(at + VsockFrame.PAYLOAD_LENGTH_OFFSET);
                if (op == VsockFrame.OP_GOODBYE) {
                    return dev.vnet.wire.vsock.PayloadReader.goodbye(in, at + VsockFrame.HEADER_LENGTH, length).reason();
                }
                at += VsockFrame.HEADER_LENGTH + length;
            }
            return "(no goodbye)";
        }
    }

    @Test
    void sessionAddressesParseAndRefuseClearly() {
        assertThat(SessionAddress.parse("unix:@vnet-vsock")).isEqualTo(new SessionAddress.AbstractUnix("vnet-vsock"));
        assertThat(SessionAddress.parse("vsock:5")).isEqualTo(new SessionAddress.Vsock(SessionAddress.VSOCK_CID_HOST, 5));
        assertThat(SessionAddress.parse("vsock:any:5")).isEqualTo(new SessionAddress.Vsock(SessionAddress.VSOCK_CID_ANY, 5));
        assertThatThrownBy(() -> SessionAddress.parse("tcp:1.2.3.4:5")).hasMessageContaining("unix:@NAME or vsock:[CID:]PORT");
        assertThatThrownBy(() -> new SessionAddress.AbstractUnix("")).hasMessageContaining("1-107 bytes");
    }

    @Test
    void sockaddrsAreLaidOutAsTheKernelReadsThem() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            // struct sockaddr_vm: family (2), reserved (2), port (4), cid (4), flags (1), zero (3); host order.
            java.lang.foreign.MemorySegment vsock = new SessionAddress.Vsock(SessionAddress.VSOCK_CID_HOST, 5).encode(arena);
            ByteBuffer b = vsock.asByteBuffer().order(java.nio.ByteOrder.nativeOrder());
            assertThat(new SessionAddress.Vsock(2, 5).length()).isEqualTo(16);
            assertThat(b.getShort(0)).isEqualTo((short) 40);
            assertThat(b.getShort(2)).isZero();
            assertThat(b.getInt(4)).isEqualTo(5);
            assertThat(b.getInt(8)).isEqualTo(2);
            assertThat(b.getInt(12)).isZero();
            // An abstract name: family, a NUL, the name's bytes, and a length that counts exactly those.
            SessionAddress.AbstractUnix unix = new SessionAddress.AbstractUnix("vnet-vsock");
            ByteBuffer u = unix.encode(arena).asByteBuffer().order(java.nio.ByteOrder.nativeOrder());
            assertThat(u.getShort(0)).isEqualTo((short) 1);
            assertThat(u.get(2)).isZero();
            byte[] name = new byte[10];
            u.get(3, name);
            assertThat(new String(name, StandardCharsets.US_ASCII)).isEqualTo("vnet-vsock");
            assertThat(unix.length()).isEqualTo(2 + 1 + 10);
        }
    }

    @Test
    void anAfVsockDeviceListensThroughTheKernelsVsockFamily() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/vsock")),
                "this kernel has no vsock");
        int port = 20_000 + ThreadLocalRandom.current().nextInt(20_000);
        try (HostDevice device = HostDevice.at("vm1", new SessionAddress.Vsock(SessionAddress.VSOCK_CID_ANY, port), mapper, counters)) {
            assertThat(device.sessions()).isZero();
        }
    }

    @Test
    void aGuestWithoutADeviceFailsToConnectWithTheReason() {
        assertThatThrownBy(() -> GuestClient.connect(new SessionAddress.AbstractUnix("vnet-test-nobody-" + System.nanoTime()), "x"))
                .isInstanceOf(IOException.class).hasMessageContaining("Connection refused");
    }

}
