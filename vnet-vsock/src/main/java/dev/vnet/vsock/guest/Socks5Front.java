package dev.vnet.vsock.guest;

import dev.vnet.vsock.mapper.SocketUri;
import dev.vnet.vsock.session.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The coprocessor's front for unmodified applications: a SOCKS5 server (RFC 1928, no authentication)
 * on the VM's loopback. CONNECT and UDP ASSOCIATE are offloaded through the {@link GuestClient} when
 * the {@link OffloadRules} say so; otherwise, and when the host cannot be reached or answers with an
 * error other than a denial, the command runs on the guest's own network stack, where the VM has one.
 * A denial by the host's access list is final (the operator said no) and becomes SOCKS reply 2,
 * "connection not allowed by ruleset", with no connection made anywhere.
 *
 * <p>One virtual thread per client connection and two per relayed stream; names in requests
 * ({@code curl --socks5-hostname}) travel to the host unresolved, so the host's access list sees them.
 */
public final class Socks5Front implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Socks5Front.class);
    private static final int VERSION = 5;
    private static final int CONNECT = 1;
    private static final int BIND = 2;
    private static final int UDP_ASSOCIATE = 3;
    private static final int ATYP_IPV4 = 1;
    private static final int ATYP_NAME = 3;
    private static final int ATYP_IPV6 = 4;
    static final int REPLY_OK = 0;
    static final int REPLY_FAILURE = 1;
    static final int REPLY_NOT_ALLOWED = 2;
    static final int REPLY_NETWORK_UNREACHABLE = 3;
    static final int REPLY_HOST_UNREACHABLE = 4;
    static final int REPLY_REFUSED = 5;
    static final int REPLY_TTL_EXPIRED = 6;
    static final int REPLY_COMMAND_NOT_SUPPORTED = 7;
    static final int REPLY_ADDRESS_NOT_SUPPORTED = 8;
    private static final int LOCAL_CONNECT_TIMEOUT_MS = 5_000;
    private static final int RELAY_CHUNK = 32 * 1024;

    /** Counts of what the front did. */
    public static final class Counters {
        public final LongAdder offloaded = new LongAdder();
        public final LongAdder local = new LongAdder();
        public final LongAdder fallbacks = new LongAdder();
        public final LongAdder denied = new LongAdder();
        public final LongAdder failed = new LongAdder();
    }

    private final ServerSocket server;
    private final Supplier<GuestClient> clients;
    private final OffloadRules rules;
    private final Counters counters = new Counters();

    /**
     * @param clients the session to the host device, or null when there is none right now (the
     *                daemon reconnects behind this supplier)
     */
    public Socks5Front(InetSocketAddress listen, Supplier<GuestClient> clients, OffloadRules rules) throws IOException {
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(listen, 1024);
        this.clients = clients;
        this.rules = rules;
    }

    public Counters counters() {
        return counters;
    }

    public int port() {
        return server.getLocalPort();
    }

    public Socks5Front start() {
        Thread.ofVirtual().name("socks5-accept").start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Thread.ofVirtual().name("socks5-client").start(() -> serve(client));
                } catch (IOException e) {
                    if (!server.isClosed()) {
                        LOG.warn("socks5 accept: {}", e.toString());
                    }
                }
            }
        });
        return this;
    }

    private void serve(Socket client) {
        try (client) {
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            if (in.readUnsignedByte() != VERSION) {
                return;
            }
            int methods = in.readUnsignedByte();
            boolean noAuthentication = false;
            for (int i = 0; i < methods; i++) {
                noAuthentication |= in.readUnsignedByte() == 0;
            }
            out.write(new byte[]{VERSION, (byte) (noAuthentication ? 0 : 0xFF)});
            if (!noAuthentication) {
                return;
            }
            if (in.readUnsignedByte() != VERSION) {
                return;
            }
            int command = in.readUnsignedByte();
            in.readUnsignedByte(); // reserved
            int type = in.readUnsignedByte();
            String host = switch (type) {
                case ATYP_IPV4 -> InetAddress.getByAddress(in.readNBytes(4)).getHostAddress();
                case ATYP_IPV6 -> "[" + InetAddress.getByAddress(in.readNBytes(16)).getHostAddress() + "]";
                case ATYP_NAME -> new String(in.readNBytes(in.readUnsignedByte()), StandardCharsets.US_ASCII);
                default -> null;
            };
            int port = in.readUnsignedShort();
            if (host == null) {
                reply(out, REPLY_ADDRESS_NOT_SUPPORTED, null);
                return;
            }
            switch (command) {
                case CONNECT -> connect(client, in, out, host, port);
                case UDP_ASSOCIATE -> associate(client, in, out);
                case BIND -> bind(client, in, out, host, port);
                default -> reply(out, REPLY_COMMAND_NOT_SUPPORTED, null);
            }
        } catch (EOFException e) {
            // the client left mid-handshake
        } catch (IOException e) {
            LOG.debug("socks5 client: {}", e.toString());
        }
    }

    private void connect(Socket client, InputStream in, OutputStream out, String host, int port) throws IOException {
        String uri = "tcp://" + host + ":" + port;
        GuestClient device = rules.offloads(uri) ? clients.get() : null;
        if (device != null) {
            try {
                GuestClient.OffloadedSocket offloaded = device.connect(uri);
                counters.offloaded.increment();
                reply(out, REPLY_OK, null);
                relay(client, in, out, offloaded.in(), offloaded.out(), offloaded);
                return;
            } catch (OffloadException e) {
                if (e.denied()) {
                    counters.denied.increment();
                    reply(out, REPLY_NOT_ALLOWED, null);
                    return;
                }
                counters.fallbacks.increment();
                LOG.debug("offloaded {} failed ({}); trying the guest's own stack", uri, e.getMessage());
            } catch (IOException e) {
                counters.fallbacks.increment(); // the host cannot be reached: the guest's own stack
            }
        }
        Socket local = new Socket();
        try {
            local.connect(new InetSocketAddress(SocketUri.bareHost(host), port),
                    LOCAL_CONNECT_TIMEOUT_MS);
        } catch (IOException e) {
            counters.failed.increment();
            local.close();
            reply(out, socksReply(e), null);
            return;
        }
        counters.local.increment();
        reply(out, REPLY_OK, local.getLocalSocketAddress());
        try (local) {
            relay(client, in, out, local.getInputStream(), local.getOutputStream(), local);
        }
    }

    /** How long a SOCKS BIND waits for its one incoming connection (RFC 1928 leaves it to the server). */
    private static final long BIND_WAIT_MILLIS = 120_000;

    /**
     * BIND (RFC 1928): a listening socket for one incoming connection, on the host when offloaded.
     * The first reply names where it listens, the second the peer that connected; then the two relay.
     * The request's address names the peer the client expects; it only decides offload or not.
     */
    private void bind(Socket client, InputStream in, OutputStream out, String expectedHost, int expectedPort) throws IOException {
        GuestClient device = rules.offloads("tcp://" + expectedHost + ":" + expectedPort) ? clients.get() : null;
        if (device == null) {
            reply(out, REPLY_COMMAND_NOT_SUPPORTED, null); // BIND through the guest's own stack is not offered
            return;
        }
        try (GuestClient.OffloadedListener listener = device.listen("tcp://0.0.0.0:0", 1)) {
            counters.offloaded.increment();
            reply(out, REPLY_OK, uriAddress(listener.boundUri()));
            GuestClient.OffloadedSocket accepted = listener.accept(BIND_WAIT_MILLIS);
            if (accepted == null) {
                reply(out, REPLY_TTL_EXPIRED, null);
                return;
            }
            reply(out, REPLY_OK, uriAddress(accepted.localUri()));
            relay(client, in, out, accepted.in(), accepted.out(), accepted);
        } catch (OffloadException e) {
            if (e.denied()) {
                counters.denied.increment();
            }
            reply(out, e.denied() ? REPLY_NOT_ALLOWED : REPLY_FAILURE, null);
        }
    }

    /** {@code tcp://HOST:PORT} with a literal HOST as a socket address. */
    private static InetSocketAddress uriAddress(String uri) throws IOException {
        String rest = uri.substring(uri.indexOf("://") + 3);
        int colon = rest.lastIndexOf(':');
        String host = rest.substring(0, colon);
        return new InetSocketAddress(InetAddress.getByName(SocketUri.bareHost(host)),
                Integer.parseInt(rest.substring(colon + 1)));
    }

    /** Copies both ways until both directions ended; half-closes follow through. */
    private static void relay(Socket client, InputStream fromClient, OutputStream toClient, InputStream fromPeer,
                              OutputStream toPeer, AutoCloseable peer) {
        Thread up = Thread.ofVirtual().start(() -> {
            try {
                copy(fromClient, toPeer);
                toPeer.close(); // the client finished sending: half-close toward the destination
            } catch (IOException e) {
                // either side went away
            }
        });
        try {
            copy(fromPeer, toClient);
            client.shutdownOutput();
        } catch (IOException e) {
            // either side went away
        }
        try {
            up.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            peer.close();
        } catch (Exception e) {
            // closing
        }
    }

    /**
     * Copies until the end of {@code from} in 32 KiB chunks: half a DATA frame's most, twice what
     * {@code transferTo} uses (fewer frames and credits per byte), while a thousand relayed
     * connections still fit a small daemon's heap (two chunks each).
     */
    private static void copy(InputStream from, OutputStream to) throws IOException {
        byte[] chunk = new byte[RELAY_CHUNK];
        for (int n = from.read(chunk); n >= 0; n = from.read(chunk)) {
            to.write(chunk, 0, n);
        }
    }

    /**
     * UDP ASSOCIATE: a relay socket on loopback takes the client's SOCKS-wrapped datagrams and sends
     * each through an offloaded datagram socket (or the guest's own, by the rules or when the host is
     * unreachable); answers come back wrapped. The association lasts as long as the TCP connection.
     */
    private void associate(Socket client, InputStream in, OutputStream out) throws IOException {
        GuestClient device = clients.get();
        try (DatagramSocket relay = new DatagramSocket(new InetSocketAddress(client.getLocalAddress(), 0))) {
            GuestClient.OffloadedDatagramSocket offloaded = device == null ? null : device.datagramSocket();
            DatagramSocket local = new DatagramSocket();
            SocketAddress[] clientAddress = new SocketAddress[1];
            reply(out, REPLY_OK, relay.getLocalSocketAddress());
            counters.offloaded.increment();
            Thread fromClient = Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[65_535];
                try {
                    while (true) {
                        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                        relay.receive(packet);
                        clientAddress[0] = packet.getSocketAddress();
                        Wrapped wrapped = Wrapped.parse(buffer, packet.getLength());
                        if (wrapped == null) {
                            continue; // fragmented or malformed: RFC 1928 lets the relay drop it
                        }
                        String uri = "udp://" + wrapped.host() + ":" + wrapped.port();
                        if (offloaded != null && rules.offloads(uri)) {
                            offloaded.sendTo(uri, buffer, wrapped.dataOffset(), packet.getLength() - wrapped.dataOffset());
                        } else {
                            local.send(new DatagramPacket(buffer, wrapped.dataOffset(), packet.getLength() - wrapped.dataOffset(),
                                    new InetSocketAddress(wrapped.host(), wrapped.port())));
                        }
                    }
                } catch (IOException e) {
                    // the association ended
                }
            });
            Thread fromOffload = offloaded == null ? null : Thread.ofVirtual().start(() -> {
                try {
                    while (!relay.isClosed()) {
                        GuestClient.OffloadedDatagramSocket.Datagram datagram = offloaded.receive(500);
                        if (datagram != null && clientAddress[0] != null) {
                            String source = datagram.source().substring("udp://".length());
                            int colon = source.lastIndexOf(':');
                            byte[] wrapped = Wrapped.wrap(source.substring(0, colon), Integer.parseInt(source.substring(colon + 1)), datagram.data());
                            relay.send(new DatagramPacket(wrapped, wrapped.length, clientAddress[0]));
                        }
                    }
                } catch (IOException e) {
                    // the association or the session ended
                }
            });
            Thread fromLocal = Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[65_535];
                try {
                    while (true) {
                        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                        local.receive(packet);
                        if (clientAddress[0] != null) {
                            byte[] data = java.util.Arrays.copyOf(buffer, packet.getLength());
                            byte[] wrapped = Wrapped.wrap(packet.getAddress().getHostAddress(), packet.getPort(), data);
                            relay.send(new DatagramPacket(wrapped, wrapped.length, clientAddress[0]));
                        }
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            while (in.read() >= 0) {
                // RFC 1928: the association ends when the TCP connection does
            }
            relay.close();
            local.close();
            if (offloaded != null) {
                offloaded.close();
            }
            fromClient.interrupt();
            fromLocal.interrupt();
            if (fromOffload != null) {
                fromOffload.interrupt();
            }
        }
    }

    /** The SOCKS UDP request header: RSV(2) FRAG(1) ATYP ADDR PORT, then the data. */
    record Wrapped(String host, int port, int dataOffset) {
        static Wrapped parse(byte[] datagram, int length) {
            if (length < 4 || datagram[2] != 0) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(datagram, 0, length);
            b.position(3);
            try {
                int type = b.get() & 0xFF;
                String host;
                if (type == ATYP_IPV4) {
                    byte[] a = new byte[4];
                    b.get(a);
                    host = InetAddress.getByAddress(a).getHostAddress();
                } else if (type == ATYP_IPV6) {
                    byte[] a = new byte[16];
                    b.get(a);
                    host = "[" + InetAddress.getByAddress(a).getHostAddress() + "]";
                } else if (type == ATYP_NAME) {
                    byte[] name = new byte[b.get() & 0xFF];
                    b.get(name);
                    host = new String(name, StandardCharsets.US_ASCII);
                } else {
                    return null;
                }
                int port = b.getShort() & 0xFFFF;
                return new Wrapped(host, port, b.position());
            } catch (java.nio.BufferUnderflowException | java.net.UnknownHostException e) {
                return null;
            }
        }

        static byte[] wrap(String host, int port, byte[] data) throws IOException {
            InetAddress address = InetAddress.getByName(SocketUri.bareHost(host));
            byte[] a = address.getAddress();
            ByteBuffer b = ByteBuffer.allocate(4 + a.length + 2 + data.length);
            b.putShort((short) 0).put((byte) 0).put((byte) (address instanceof Inet4Address ? ATYP_IPV4 : ATYP_IPV6));
            b.put(a).putShort((short) port).put(data);
            return b.array();
        }
    }

    static int socksReply(IOException failure) {
        return switch (Errno.of(failure)) {
            case Errno.ECONNREFUSED -> REPLY_REFUSED;
            case Errno.ENETUNREACH -> REPLY_NETWORK_UNREACHABLE;
            case Errno.EHOSTUNREACH, Errno.ENOENT -> REPLY_HOST_UNREACHABLE;
            case Errno.ETIMEDOUT -> REPLY_TTL_EXPIRED;
            case Errno.EACCES -> REPLY_NOT_ALLOWED;
            default -> REPLY_FAILURE;
        };
    }

    private static void reply(OutputStream out, int code, SocketAddress bound) throws IOException {
        byte[] address = new byte[4];
        int port = 0;
        int type = ATYP_IPV4;
        if (bound instanceof InetSocketAddress inet && inet.getAddress() != null) {
            address = inet.getAddress().getAddress();
            type = inet.getAddress() instanceof Inet6Address ? ATYP_IPV6 : ATYP_IPV4;
            port = inet.getPort();
        }
        ByteBuffer reply = ByteBuffer.allocate(6 + address.length);
        reply.put((byte) VERSION).put((byte) code).put((byte) 0).put((byte) type).put(address).putShort((short) port);
        out.write(reply.array());
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
