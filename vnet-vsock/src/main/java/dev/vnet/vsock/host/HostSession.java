package dev.vnet.vsock.host;

import dev.vnet.vsock.mapper.Decision;
import dev.vnet.vsock.mapper.HandlerKind;
import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.mapper.SocketUri;
import dev.vnet.vsock.session.Errno;
import dev.vnet.vsock.session.Session;
import dev.vnet.vsock.session.SocketStream;
import dev.vnet.vsock.session.FrameOutbox;
import dev.vnet.wire.vsock.FrameWriter;
import dev.vnet.wire.vsock.MalformedPayloadException;
import dev.vnet.wire.vsock.PayloadReader;
import dev.vnet.wire.vsock.VsockFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host side of one guest's session (the host virtual socket device of seed 000): it keeps the
 * state of every socket the guest created, maps each offloaded destination through the VM's policy
 * ({@link SocketMapper}: access list, rewrite, handler) and does the work with the host's own sockets.
 *
 * <p>Everything a frame asks for that can wait (connecting, resolving, reading and writing a host
 * socket) runs on virtual threads, so the session's reader only files data and credits: one slow
 * destination or stalled guest reader never holds up another socket (docs/vsock.md, "Flow control").
 * Frames that break the protocol end this session (counted by kind) and nothing else.
 */
public final class HostSession implements Session.Endpoint {
    private static final Logger LOG = LoggerFactory.getLogger(HostSession.class);
    private static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final int MAX_DATAGRAM = 65_507;
    /** What a proxied socket's local end is: its host connections come and go with the requests. */
    private static final String PROXY_LOCAL = "tcp://0.0.0.0:0";

    private final String vm;
    private final SocketMapper mapper;
    private final HostCounters counters;
    private final java.util.function.Consumer<Session> ended;
    private final Map<Integer, HostSocket> sockets = new ConcurrentHashMap<>();
    /**
     * Sockets closed lately, whose DATA may still be in flight from the guest (docs/vsock.md: a close
     * races the peer's data); DATA for any other unknown socket is a violation.
     */
    private final Map<Integer, Boolean> closedLately = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
            return size() > 4096;
        }
    });
    private volatile boolean helloSeen;
    /** Sockets the host creates (accepted connections) have even ids, the guest's odd ones. */
    private final java.util.concurrent.atomic.AtomicInteger nextHostSocketId = new java.util.concurrent.atomic.AtomicInteger(2);

    /** @param ended told when the session ended, after its sockets were released (the device forgets it) */
    public HostSession(String vm, SocketMapper mapper, HostCounters counters, java.util.function.Consumer<Session> ended) {
        this.vm = vm;
        this.mapper = mapper;
        this.counters = counters;
        this.ended = ended;
    }

    /** One socket of the guest, as the host keeps it. */
    private static final class HostSocket {
        final int id;
        final int type;
        volatile Socket tcp;
        volatile java.net.ServerSocket listener;
        volatile SocketStream stream;
        volatile DatagramSocket udp;
        /** Sends the socket's datagrams in the order the guest gave them, one virtual thread per socket. */
        volatile java.util.concurrent.ExecutorService sender;
        volatile HttpProxy http;
        volatile SocketUri peer;
        volatile boolean connecting;
        volatile long datagramCredit = SocketStream.DEFAULT_WINDOW;

        HostSocket(int id, int type) {
            this.id = id;
            this.type = type;
        }
    }

    public int openSockets() {
        return sockets.size();
    }

    @Override
    public void onFrame(Session session, VsockFrame frame, ByteBuffer buffer, int offset, int length) {
        int op = frame.op();
        int id = frame.socketId();
        int request = frame.requestId();
        if (!helloSeen && op != VsockFrame.OP_HELLO) {
            violation(session, "no_hello", "the first frame must be HELLO, not op " + op);
            return;
        }
        try {
            switch (op) {
                case VsockFrame.OP_HELLO -> hello(session, PayloadReader.hello(buffer, offset, length), request);
                case VsockFrame.OP_CREATE -> create(session, id, request, PayloadReader.create(buffer, offset, length));
                case VsockFrame.OP_CONNECT -> connect(session, id, request, PayloadReader.connect(buffer, offset, length));
                case VsockFrame.OP_DATA -> data(session, id, buffer, offset, length);
                case VsockFrame.OP_CREDIT -> credit(id, PayloadReader.credit(buffer, offset, length));
                case VsockFrame.OP_SENDTO -> sendTo(session, id, request, PayloadReader.sendTo(buffer, offset, length), buffer);
                case VsockFrame.OP_SHUTDOWN -> shutdown(session, id, request, PayloadReader.shutdown(buffer, offset, length));
                case VsockFrame.OP_CLOSE -> {
                    PayloadReader.expectEmpty(op, length);
                    close(session, id, request);
                }
                case VsockFrame.OP_RESOLVE -> resolve(session, request, PayloadReader.resolve(buffer, offset, length));
                case VsockFrame.OP_GETSOCKNAME, VsockFrame.OP_GETPEERNAME -> {
                    PayloadReader.expectEmpty(op, length);
                    name(session, id, request, op);
                }
                case VsockFrame.OP_POLL -> poll(session, id, request, PayloadReader.poll(buffer, offset, length));
                case VsockFrame.OP_SETSOCKOPT -> setOption(session, id, request, PayloadReader.setSockOpt(buffer, offset, length));
                case VsockFrame.OP_GETSOCKOPT -> getOption(session, id, request, PayloadReader.getSockOpt(buffer, offset, length));
                case VsockFrame.OP_BIND -> bind(session, id, request, PayloadReader.bind(buffer, offset, length));
                case VsockFrame.OP_LISTEN -> listen(session, id, request, PayloadReader.listen(buffer, offset, length));
                case VsockFrame.OP_GOODBYE -> session.close();
                default -> violation(session, "unexpected_op", "op " + VsockFrame.opName(op) + " is not for the host");
            }
        } catch (MalformedPayloadException e) {
            violation(session, "malformed_payload", e.getMessage());
        }
    }

    private void hello(Session session, PayloadReader.Hello hello, int request) {
        int version = hello.version();
        String guest = hello.guestName();
        if (helloSeen) {
            violation(session, "second_hello", "HELLO twice");
            return;
        }
        if (version != VsockFrame.VERSION) {
            violation(session, "version", "guest speaks version " + version + ", the host " + VsockFrame.VERSION);
            return;
        }
        helloSeen = true;
        LOG.info("vm {}: guest '{}' opened a session", vm, guest);
        session.outbox().send(VsockFrame.HEADER_LENGTH + 10,
                (b, at) -> FrameWriter.helloReply(b, at, request, VsockFrame.VERSION, VsockFrame.MAX_PAYLOAD));
    }

    private void create(Session session, int id, int request, PayloadReader.Create create) {
        int type = create.type();
        int family = create.family();
        if (id == 0 || (id & 1) == 0 || sockets.containsKey(id)) {
            reply(session, id, request, Errno.EINVAL);
            return;
        }
        if ((type != VsockFrame.SOCKET_TYPE_STREAM && type != VsockFrame.SOCKET_TYPE_DATAGRAM)
                || (family != VsockFrame.FAMILY_IPV4 && family != VsockFrame.FAMILY_IPV6)) {
            reply(session, id, request, Errno.EPROTONOSUPPORT);
            return;
        }
        sockets.put(id, new HostSocket(id, type));
        counters.socketsCreated.increment();
        reply(session, id, request, Errno.OK);
    }

    private Decision decide(String uriText, Session session, int id, int request) {
        SocketUri uri;
        try {
            uri = SocketUri.parse(uriText);
        } catch (IllegalArgumentException e) {
            reply(session, id, request, Errno.EINVAL);
            return null;
        }
        Decision decision = mapper.map(vm, uri);
        if (!decision.allowed()) {
            reply(session, id, request, Errno.EACCES);
            return null;
        }
        return decision;
    }

    /**
     * BIND: a listening socket on the host for the guest. The host binds first (port 0 means any port)
     * and then asks the VM's policy about {@code tcp://HOST:BOUND_PORT}, so a rule names the port a
     * listener really has; a denial closes it again. Rewrites do not apply to where a VM listens.
     */
    private void bind(Session session, int id, int request, String uriText) {
        HostSocket socket = sockets.get(id);
        if (socket == null) {
            reply(session, id, request, Errno.EBADF);
            return;
        }
        if (socket.type != VsockFrame.SOCKET_TYPE_STREAM || socket.tcp != null || socket.connecting || socket.listener != null) {
            reply(session, id, request, Errno.EINVAL);
            return;
        }
        String host;
        int port;
        try {
            if (!uriText.startsWith("tcp://") || uriText.lastIndexOf(':') < "tcp://".length()) {
                throw new IllegalArgumentException(uriText);
            }
            host = SocketUri.bareHost(uriText.substring("tcp://".length(), uriText.lastIndexOf(':')));
            port = Integer.parseInt(uriText.substring(uriText.lastIndexOf(':') + 1));
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException(uriText);
            }
        } catch (IllegalArgumentException e) {
            reply(session, id, request, Errno.EINVAL);
            return;
        }
        java.net.ServerSocket listener;
        try {
            listener = new java.net.ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (IOException e) {
            reply(session, id, request, Errno.of(e));
            return;
        }
        String bound = SocketUri.tcp(address(listener.getInetAddress()), listener.getLocalPort()).toString();
        Decision decision = mapper.map(vm, SocketUri.parse(bound));
        if (!decision.allowed()) {
            try {
                listener.close();
            } catch (IOException e) {
                // closing
            }
            reply(session, id, request, Errno.EACCES);
            return;
        }
        socket.listener = listener;
        session.outbox().send(VsockFrame.HEADER_LENGTH + 4 + FrameOutbox.room(bound),
                (b, at) -> FrameWriter.bindReply(b, at, id, request, bound));
    }

    /** LISTEN: accepts connections to the bound socket; each becomes a new socket of the host's (even ids) and an ACCEPT. */
    private void listen(Session session, int id, int request, long backlog) {
        HostSocket socket = sockets.get(id);
        if (socket == null || socket.listener == null) {
            reply(session, id, request, socket == null ? Errno.EBADF : Errno.EINVAL);
            return;
        }
        java.net.ServerSocket listener = socket.listener;
        reply(session, id, request, Errno.OK);
        Thread.ofVirtual().name("vsock-" + vm + "-accept-" + id).start(() -> {
            while (!listener.isClosed()) {
                Socket accepted;
                try {
                    accepted = listener.accept();
                    accepted.setTcpNoDelay(true);
                } catch (IOException e) {
                    return; // the guest closed the listening socket
                }
                int childId = nextHostSocketId.getAndAdd(2);
                HostSocket child = new HostSocket(childId, VsockFrame.SOCKET_TYPE_STREAM);
                child.tcp = accepted;
                child.peer = SocketUri.tcp(address(accepted.getInetAddress()), accepted.getPort());
                SocketStream stream = new SocketStream(session, childId, SocketStream.DEFAULT_WINDOW, SocketStream.DEFAULT_WINDOW);
                child.stream = stream;
                sockets.put(childId, child);
                counters.accepts.increment();
                String peer = child.peer.toString();
                session.outbox().send(VsockFrame.HEADER_LENGTH + 8 + FrameOutbox.room(peer),
                        (b, at) -> FrameWriter.accept(b, at, childId, id, stream.window(), peer));
                relay(session, child, accepted, stream);
            }
        });
    }

    private void connect(Session session, int id, int request, String uriText) {
        HostSocket socket = sockets.get(id);
        if (socket == null) {
            reply(session, id, request, Errno.EBADF);
            return;
        }
        if (socket.type != VsockFrame.SOCKET_TYPE_STREAM || socket.stream != null || socket.connecting) {
            reply(session, id, request, Errno.EINVAL);
            return;
        }
        Decision decision = decide(uriText, session, id, request);
        if (decision == null) {
            return;
        }
        if (decision.handler() != HandlerKind.TCP && decision.handler() != HandlerKind.HTTP) {
            reply(session, id, request, Errno.EPROTONOSUPPORT);
            return;
        }
        if (decision.handler() == HandlerKind.HTTP) {
            proxy(session, socket, request, decision);
            return;
        }
        socket.connecting = true;
        SocketUri target = decision.uri();
        Thread.ofVirtual().name("vsock-" + vm + "-connect-" + id).start(() -> {
            Socket tcp;
            try {
                tcp = open(target);
            } catch (IOException e) {
                socket.connecting = false;
                LOG.debug("vm {}: {} failed: {}", vm, target, e.toString());
                reply(session, id, request, Errno.of(e));
                return;
            }
            socket.tcp = tcp;
            socket.peer = target;
            SocketStream stream = new SocketStream(session, id, SocketStream.DEFAULT_WINDOW, SocketStream.DEFAULT_WINDOW);
            socket.stream = stream;
            socket.connecting = false;
            String local = SocketUri.tcp(tcp.getLocalAddress().getHostAddress(), tcp.getLocalPort()).toString();
            session.outbox().send(VsockFrame.HEADER_LENGTH + 8 + FrameOutbox.room(local),
                    (b, at) -> FrameWriter.connectReply(b, at, id, request, stream.window(), local));
            relay(session, socket, tcp, stream);
        });
    }

    /** A host connection for the TCP handler or a request of the HTTP proxy, counted either way. */
    private Socket open(SocketUri target) throws IOException {
        Socket tcp = new Socket();
        try {
            tcp.setTcpNoDelay(true);
            tcp.connect(new InetSocketAddress(InetAddress.getByName(SocketUri.bareHost(target.host())), target.port()), CONNECT_TIMEOUT_MS);
        } catch (IOException e) {
            counters.connectFailures.increment();
            closeQuietly(tcp);
            throw e;
        }
        counters.connects.increment();
        return tcp;
    }

    /**
     * The HTTP handler: the guest's stream goes to an {@link HttpProxy}, which decides every request
     * on its own URI, so there is nothing to connect to yet and CONNECT succeeds at once. The proxy's
     * connections are its own; the guest socket has no host socket of its own.
     */
    private void proxy(Session session, HostSocket socket, int request, Decision decision) {
        int id = socket.id;
        HttpProxy proxy = new HttpProxy(uri -> mapper.map(vm, uri), this::open, counters.http);
        SocketStream stream = new SocketStream(session, id, SocketStream.DEFAULT_WINDOW, SocketStream.DEFAULT_WINDOW);
        socket.http = proxy;
        socket.peer = decision.uri();
        socket.stream = stream; // before the reply: the guest may send its request right after it
        session.outbox().send(VsockFrame.HEADER_LENGTH + 8 + FrameOutbox.room(PROXY_LOCAL),
                (b, at) -> FrameWriter.connectReply(b, at, id, request, stream.window(), PROXY_LOCAL));
        Thread.ofVirtual().name("vsock-" + vm + "-http-" + id).start(() -> {
            try {
                proxy.serve(new CountingInput(stream.in()), new CountingOutput(stream.out()), decision.uri());
                stream.out().close(); // SHUTDOWN(write): the proxy ended the connection; the guest's CLOSE releases it
            } catch (IOException e) {
                failed(session, socket, e);
            } catch (RuntimeException e) {
                LOG.warn("vm {}: the HTTP proxy of socket {} failed", vm, id, e);
                failed(session, socket, new IOException(e));
            }
        });
    }

    /** The proxy's reads of the guest stream, counted as the TCP relay counts them. */
    private final class CountingInput extends FilterInputStream {
        CountingInput(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            int n = in.read(into, offset, length);
            if (n > 0) {
                counters.bytesFromGuest.add(n);
            }
            return n;
        }
    }

    private final class CountingOutput extends FilterOutputStream {
        CountingOutput(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] from, int offset, int length) throws IOException {
            out.write(from, offset, length);
            counters.bytesToGuest.add(length);
        }
    }

    /** Host socket → guest (DATA within the guest's credit) and guest → host socket, each on its own virtual thread. */
    private void relay(Session session, HostSocket socket, Socket tcp, SocketStream stream) {
        Thread.ofVirtual().name("vsock-" + vm + "-down-" + socket.id).start(() -> {
            byte[] chunk = new byte[64 * 1024];
            try (InputStream remote = tcp.getInputStream()) {
                OutputStream toGuest = stream.out();
                for (int n = remote.read(chunk); n >= 0; n = remote.read(chunk)) {
                    toGuest.write(chunk, 0, n);
                    counters.bytesToGuest.add(n);
                }
                toGuest.close(); // the destination finished sending: SHUTDOWN(write) to the guest
            } catch (IOException e) {
                failed(session, socket, e);
            }
        });
        Thread.ofVirtual().name("vsock-" + vm + "-up-" + socket.id).start(() -> {
            byte[] chunk = new byte[64 * 1024];
            try {
                OutputStream remote = tcp.getOutputStream();
                InputStream fromGuest = stream.in();
                for (int n = fromGuest.read(chunk); n >= 0; n = fromGuest.read(chunk)) {
                    remote.write(chunk, 0, n);
                    counters.bytesFromGuest.add(n);
                }
                if (!tcp.isClosed()) {
                    tcp.shutdownOutput(); // the guest finished sending
                }
            } catch (IOException e) {
                failed(session, socket, e);
            }
        });
    }

    /** A host socket failed under a connected guest socket: CLOSE with the errno, and it is gone. */
    private void failed(Session session, HostSocket socket, IOException e) {
        if (sockets.remove(socket.id, socket)) {
            forget(socket);
            int errno = Errno.of(e);
            closeQuietly(socket.tcp);
            if (socket.http != null) {
                socket.http.close();
            }
            if (socket.stream != null) {
                socket.stream.close();
            }
            session.outbox().send(VsockFrame.HEADER_LENGTH + 4, (b, at) -> FrameWriter.hostClose(b, at, socket.id, errno));
        }
    }

    private void data(Session session, int id, ByteBuffer buffer, int offset, int length) {
        HostSocket socket = sockets.get(id);
        if (socket == null) {
            if (!recentlyClosed(id)) {
                violation(session, "data_unknown_socket", "DATA for socket " + id + ", which does not exist");
            }
            return; // closed here while the guest was sending; our CLOSE is on its way to it
        }
        SocketStream stream = socket.stream;
        if (stream == null) {
            violation(session, "data_before_connect", "DATA for socket " + id + " before it was connected");
            return;
        }
        if (!stream.received(buffer, offset, length)) {
            violation(session, "credit_exceeded", "socket " + id + " sent more than its credit");
        }
    }

    private boolean recentlyClosed(int id) {
        return closedLately.containsKey(id);
    }

    private void forget(HostSocket socket) {
        closedLately.put(socket.id, Boolean.TRUE);
    }

    private void credit(int id, long bytes) {
        HostSocket socket = sockets.get(id);
        if (socket == null) {
            return;
        }
        if (socket.stream != null) {
            socket.stream.credit(bytes);
        } else if (socket.type == VsockFrame.SOCKET_TYPE_DATAGRAM) {
            socket.datagramCredit = Math.min(socket.datagramCredit + bytes, SocketStream.DEFAULT_WINDOW);
        }
    }

    private void sendTo(Session session, int id, int request, PayloadReader.Datagram datagram, ByteBuffer buffer) {
        String uriText = datagram.uri();
        HostSocket socket = sockets.get(id);
        if (socket == null || socket.type != VsockFrame.SOCKET_TYPE_DATAGRAM) {
            if (request != 0) {
                reply(session, id, request, socket == null ? Errno.EBADF : Errno.EINVAL);
            }
            return;
        }
        byte[] data = new byte[datagram.dataLength()];
        buffer.get(datagram.dataOffset(), data); // the frame's bytes are gone once this returns
        Decision decision = decideQuietly(uriText);
        if (decision == null || decision.handler() != HandlerKind.UDP) {
            if (request != 0) {
                reply(session, id, request, decision == null ? Errno.EACCES : Errno.EPROTONOSUPPORT);
            }
            return;
        }
        SocketUri target = decision.uri();
        senderOf(socket).execute(() -> {
            try {
                DatagramSocket udp = datagramSocket(session, socket);
                udp.send(new DatagramPacket(data, data.length, InetAddress.getByName(SocketUri.bareHost(target.host())), target.port()));
                counters.datagramsOut.increment();
                if (request != 0) {
                    reply(session, id, request, Errno.OK);
                }
            } catch (IOException e) {
                if (request != 0) {
                    reply(session, id, request, Errno.of(e));
                }
            }
        });
    }

    /**
     * The socket's sender: resolving a name and sending may block, which the session's reader must not,
     * and datagrams the guest sent in order leave in order.
     */
    private java.util.concurrent.ExecutorService senderOf(HostSocket socket) {
        synchronized (socket) {
            if (socket.sender == null) {
                socket.sender = java.util.concurrent.Executors.newSingleThreadExecutor(
                        Thread.ofVirtual().name("vsock-" + vm + "-sendto-" + socket.id).factory());
            }
            return socket.sender;
        }
    }

    /** A denied datagram gets no reply when none was asked for; the decision is counted and logged either way. */
    private Decision decideQuietly(String uriText) {
        try {
            Decision decision = mapper.map(vm, SocketUri.parse(uriText));
            return decision.allowed() ? decision : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The socket's host datagram socket, created on first use with a receiver that forwards answers to the guest. */
    private DatagramSocket datagramSocket(Session session, HostSocket socket) throws IOException {
        synchronized (socket) {
            if (socket.udp != null) {
                return socket.udp;
            }
            DatagramSocket udp = new DatagramSocket();
            socket.udp = udp;
            Thread.ofVirtual().name("vsock-" + vm + "-recvfrom-" + socket.id).start(() -> {
                byte[] datagram = new byte[MAX_DATAGRAM];
                try {
                    while (!udp.isClosed()) {
                        DatagramPacket packet = new DatagramPacket(datagram, datagram.length);
                        udp.receive(packet);
                        int length = packet.getLength();
                        if (socket.datagramCredit < length) {
                            counters.datagramsDroppedNoCredit.increment();
                            continue; // the guest is not reading: datagrams may be lost, the session may not stall
                        }
                        socket.datagramCredit -= length;
                        counters.datagramsIn.increment();
                        String source = SocketUri.udp(address(packet.getAddress()), packet.getPort()).toString();
                        ByteBuffer data = ByteBuffer.wrap(datagram, 0, length);
                        session.outbox().send(VsockFrame.HEADER_LENGTH + FrameOutbox.room(source) + length,
                                (b, at) -> FrameWriter.recvFrom(b, at, socket.id, source, data, 0, length));
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            return udp;
        }
    }

    private void shutdown(Session session, int id, int request, int how) {
        HostSocket socket = sockets.get(id);
        if (socket == null || socket.stream == null) {
            reply(session, id, request, socket == null ? Errno.EBADF : Errno.ENOTCONN);
            return;
        }
        if ((how & VsockFrame.SHUTDOWN_WRITE) != 0) {
            socket.stream.peerShutdown(); // the up relay drains what came and then shuts the host socket's output
        }
        if ((how & VsockFrame.SHUTDOWN_READ) != 0 && socket.tcp != null) { // a proxied socket has no host socket to shut
            try {
                socket.tcp.shutdownInput();
            } catch (IOException e) {
                // already closed
            }
        }
        if (request != 0) {
            reply(session, id, request, Errno.OK);
        }
    }

    private void close(Session session, int id, int request) {
        HostSocket socket = sockets.remove(id);
        if (socket == null) {
            reply(session, id, request, Errno.EBADF);
            return;
        }
        forget(socket);
        release(socket);
        reply(session, id, request, Errno.OK);
    }

    private static void release(HostSocket socket) {
        if (socket.stream != null) {
            socket.stream.close();
        }
        if (socket.listener != null) {
            try {
                socket.listener.close();
            } catch (IOException e) {
                // closing
            }
        }
        closeQuietly(socket.tcp);
        if (socket.http != null) {
            socket.http.close(); // whatever request it was waiting on is the guest's no longer
        }
        if (socket.udp != null) {
            socket.udp.close();
        }
        if (socket.sender != null) {
            socket.sender.shutdownNow();
        }
    }

    private void resolve(Session session, int request, String uriText) {
        Decision decision = decide(uriText, session, 0, request);
        if (decision == null) {
            return;
        }
        if (decision.handler() != HandlerKind.DNS) {
            reply(session, 0, request, Errno.EINVAL);
            return;
        }
        String name = decision.uri().host();
        counters.resolves.increment();
        Thread.ofVirtual().name("vsock-" + vm + "-resolve").start(() -> {
            InetAddress[] addresses;
            try {
                addresses = InetAddress.getAllByName(name);
            } catch (IOException e) {
                reply(session, 0, request, Errno.ENOENT);
                return;
            }
            java.util.List<byte[]> raw = java.util.Arrays.stream(addresses).map(InetAddress::getAddress).toList();
            int size = VsockFrame.HEADER_LENGTH + 4 + 2 + raw.stream().mapToInt(a -> 1 + a.length).sum();
            session.outbox().send(size, (b, at) -> FrameWriter.resolveReply(b, at, request, raw));
        });
    }

    private void name(Session session, int id, int request, int op) {
        HostSocket socket = sockets.get(id);
        if (socket == null) {
            reply(session, id, request, Errno.EBADF);
            return;
        }
        String uri;
        if (op == VsockFrame.OP_GETPEERNAME) {
            if (socket.peer == null) {
                reply(session, id, request, Errno.ENOTCONN);
                return;
            }
            uri = socket.peer.toString();
        } else if (socket.tcp != null) {
            uri = SocketUri.tcp(address(socket.tcp.getLocalAddress()), socket.tcp.getLocalPort()).toString();
        } else if (socket.udp != null) {
            uri = SocketUri.udp(address(socket.udp.getLocalAddress()), socket.udp.getLocalPort()).toString();
        } else if (socket.http != null) {
            uri = PROXY_LOCAL;
        } else {
            reply(session, id, request, Errno.EINVAL);
            return;
        }
        session.outbox().send(VsockFrame.HEADER_LENGTH + 4 + FrameOutbox.room(uri), (b, at) -> FrameWriter.nameReply(b, at, id, request, uri));
    }

    private void poll(Session session, int id, int request, int events) {
        HostSocket socket = sockets.get(id);
        if (socket == null) {
            reply(session, id, request, Errno.EBADF);
            return;
        }
        int ready = 0;
        if (socket.stream != null && socket.stream.canSend()) {
            ready |= VsockFrame.POLL_OUT;
        }
        if (socket.tcp != null && socket.tcp.isInputShutdown()) {
            ready |= VsockFrame.POLL_HUP;
        }
        int revents = ready & (events | VsockFrame.POLL_HUP | VsockFrame.POLL_ERR);
        session.outbox().send(VsockFrame.HEADER_LENGTH + 6, (b, at) -> FrameWriter.pollReply(b, at, id, request, revents));
    }

    private void setOption(Session session, int id, int request, PayloadReader.SocketOption setting) {
        int option = setting.option();
        int value = setting.value();
        HostSocket socket = sockets.get(id);
        if (socket == null) {
            reply(session, id, request, Errno.EBADF);
            return;
        }
        Socket tcp = socket.tcp;
        if (tcp == null && socket.http != null) {
            reply(session, id, request, Errno.OK); // the proxy sets its own connections' options; the guest's have nothing to apply to
            return;
        }
        if (tcp == null) {
            reply(session, id, request, Errno.ENOTCONN);
            return;
        }
        try {
            switch (option) {
                case VsockFrame.OPTION_TCP_NODELAY -> tcp.setTcpNoDelay(value != 0);
                case VsockFrame.OPTION_SO_KEEPALIVE -> tcp.setKeepAlive(value != 0);
                case VsockFrame.OPTION_SO_RCVBUF -> tcp.setReceiveBufferSize((int) value);
                case VsockFrame.OPTION_SO_SNDBUF -> tcp.setSendBufferSize((int) value);
                case VsockFrame.OPTION_SO_LINGER -> tcp.setSoLinger(value != VsockFrame.LINGER_OFF, Math.max(0, value));
                default -> {
                    reply(session, id, request, Errno.ENOPROTOOPT);
                    return;
                }
            }
            reply(session, id, request, Errno.OK);
        } catch (IOException | IllegalArgumentException e) {
            reply(session, id, request, Errno.EINVAL);
        }
    }

    private void getOption(Session session, int id, int request, int option) {
        HostSocket socket = sockets.get(id);
        if (socket == null || socket.tcp == null) {
            reply(session, id, request, socket == null ? Errno.EBADF : Errno.ENOTCONN);
            return;
        }
        Socket tcp = socket.tcp;
        long value;
        try {
            value = switch (option) {
                case VsockFrame.OPTION_TCP_NODELAY -> tcp.getTcpNoDelay() ? 1 : 0;
                case VsockFrame.OPTION_SO_KEEPALIVE -> tcp.getKeepAlive() ? 1 : 0;
                case VsockFrame.OPTION_SO_RCVBUF -> tcp.getReceiveBufferSize();
                case VsockFrame.OPTION_SO_SNDBUF -> tcp.getSendBufferSize();
                case VsockFrame.OPTION_SO_LINGER -> tcp.getSoLinger();
                default -> Long.MIN_VALUE;
            };
        } catch (IOException e) {
            reply(session, id, request, Errno.EINVAL);
            return;
        }
        if (value == Long.MIN_VALUE) {
            reply(session, id, request, Errno.ENOPROTOOPT);
            return;
        }
        long answer = value;
        session.outbox().send(VsockFrame.HEADER_LENGTH + 8, (b, at) -> FrameWriter.getSockOptReply(b, at, id, request, (int) answer));
    }

    /** A REPLY with only a status. */
    private static void reply(Session session, int id, int request, int status) {
        session.outbox().send(VsockFrame.HEADER_LENGTH + 4, (b, at) -> FrameWriter.reply(b, at, id, request, status));
    }

    @Override
    public void onMalformed(Session session, String reason) {
        counters.violation("malformed");
        session.violation("malformed frame: " + reason);
    }

    private void violation(Session session, String kind, String reason) {
        counters.violation(kind);
        session.violation(reason);
    }

    @Override
    public void onClosed(Session session, String reason) {
        LOG.info("vm {}: session ended ({}); closing its {} sockets", vm, reason, sockets.size());
        sockets.values().forEach(HostSession::release);
        sockets.clear();
        ended.accept(session);
    }

    private static String address(InetAddress address) {
        return address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
    }


    private static void closeQuietly(Socket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }
}
