package dev.vnet.vsock.guest;

import dev.vnet.vsock.session.Errno;
import dev.vnet.vsock.session.FrameOutbox;
import dev.vnet.vsock.session.Session;
import dev.vnet.vsock.session.SocketStream;
import dev.vnet.vsock.transport.SessionAddress;
import dev.vnet.vsock.transport.SessionSockets;
import dev.vnet.wire.vsock.FrameWriter;
import dev.vnet.wire.vsock.MalformedPayloadException;
import dev.vnet.wire.vsock.PayloadReader;
import dev.vnet.wire.vsock.VsockFrame;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The guest end of a session: the Java client library of socket offload, and what the SOCKS5 front
 * of {@code vnet vsock guest} uses. Requests are asynchronous underneath (a request id each, replies
 * matched by id on the session's reader thread); these methods wait for their own reply only.
 */
public final class GuestClient implements AutoCloseable, Session.Endpoint {
    private static final long REPLY_TIMEOUT_SECONDS = 30;

    private final Session session;
    private final AtomicInteger nextRequest = new AtomicInteger(1);
    private final AtomicInteger nextSocket = new AtomicInteger(1);
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final Map<Integer, SocketStream> streams = new ConcurrentHashMap<>();
    private final Map<Integer, OffloadedDatagramSocket> datagrams = new ConcurrentHashMap<>();
    private final Map<Integer, OffloadedListener> listeners = new ConcurrentHashMap<>();
    private volatile String closedBecause;

    /** A reply's status and a copy of its whole payload (the status included, as {@link PayloadReader}'s reply readers want it). */
    record Reply(int status, ByteBuffer payload) {
        int length() {
            return payload.capacity();
        }
    }

    /** A request waiting for its reply, and the op it asked (a reply is read by what it answers). */
    private record Pending(int op, CompletableFuture<Reply> reply) {
    }

    private GuestClient(dev.vnet.vsock.transport.SessionSocket socket, String guestName) {
        this.session = new Session(socket, "guest-" + guestName, this);
    }

    /** Opens a session to the device at {@code address} and says HELLO. */
    public static GuestClient connect(SessionAddress address, String guestName) throws IOException {
        GuestClient client = new GuestClient(SessionSockets.connect(address), guestName);
        client.session.start();
        Reply hello = client.request(VsockFrame.OP_HELLO, VsockFrame.HEADER_LENGTH + 6 + FrameOutbox.room(guestName),
                (b, at, request) -> FrameWriter.hello(b, at, request, VsockFrame.VERSION, VsockFrame.MAX_PAYLOAD, guestName));
        client.check(hello, "HELLO");
        return client;
    }

    public boolean isOpen() {
        return !session.isClosed();
    }

    /** Writes a request frame with the request id it is given. */
    @FunctionalInterface
    interface RequestWriting {
        int write(ByteBuffer buffer, int offset, int requestId);
    }

    /** Sends a request and waits for its reply. */
    Reply request(int op, int maxFrameLength, RequestWriting frame) throws IOException {
        return await(send(op, maxFrameLength, frame), op);
    }

    /** Sends a request; its reply completes the future (or the session's end fails it). */
    private CompletableFuture<Reply> send(int op, int maxFrameLength, RequestWriting frame) throws IOException {
        int id = nextRequest.getAndIncrement();
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        pending.put(id, new Pending(op, reply));
        if (!session.outbox().send(maxFrameLength, (b, at) -> frame.write(b, at, id))) {
            pending.remove(id);
            throw new IOException("the session ended: " + closedBecause);
        }
        return reply;
    }

    private Reply await(CompletableFuture<Reply> reply, int op) throws IOException {
        try {
            return reply.get(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException("the session ended: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            pending.values().removeIf(p -> p.reply() == reply);
            throw new IOException("no reply to op " + VsockFrame.opName(op) + " within " + REPLY_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private Reply check(Reply reply, String what) throws OffloadException {
        if (reply.status() != Errno.OK) {
            throw new OffloadException(what, reply.status());
        }
        return reply;
    }

    private int create(int type) throws IOException {
        int id = nextSocket.getAndAdd(2); // odd ids are the guest's
        check(request(VsockFrame.OP_CREATE, VsockFrame.HEADER_LENGTH + 2,
                (b, at, request) -> FrameWriter.create(b, at, id, request, type, VsockFrame.FAMILY_IPV4)), "CREATE");
        return id;
    }

    /**
     * Connects an offloaded stream socket to {@code uri} ({@code tcp://host:port}). {@code CREATE} and
     * {@code CONNECT} go out back to back (the host handles a session's frames in order), so a connect
     * costs one session round trip, not two.
     */
    public OffloadedSocket connect(String uri) throws IOException {
        int id = nextSocket.getAndAdd(2); // odd ids are the guest's
        SocketStream stream = new SocketStream(session, id, SocketStream.DEFAULT_WINDOW, 0);
        streams.put(id, stream); // before CONNECT: the host may send data right after its reply
        Reply reply;
        try {
            CompletableFuture<Reply> created = send(VsockFrame.OP_CREATE, VsockFrame.HEADER_LENGTH + 2,
                    (b, at, request) -> FrameWriter.create(b, at, id, request, VsockFrame.SOCKET_TYPE_STREAM, VsockFrame.FAMILY_IPV4));
            CompletableFuture<Reply> connected = send(VsockFrame.OP_CONNECT, VsockFrame.HEADER_LENGTH + FrameOutbox.room(uri),
                    (b, at, request) -> FrameWriter.connect(b, at, id, request, uri));
            check(await(created, VsockFrame.OP_CREATE), "CREATE");
            reply = check(await(connected, VsockFrame.OP_CONNECT), "CONNECT " + uri);
        } catch (IOException e) {
            streams.remove(id);
            closeQuietly(id);
            throw e;
        }
        PayloadReader.ConnectReply connected = read(() -> PayloadReader.connectReply(reply.payload(), 0, reply.length()));
        stream.credit(connected.initialCredit());
        return new OffloadedSocket(this, id, stream, connected.localUri());
    }

    /**
     * A listening socket on the host: {@code bindUri} is {@code tcp://HOST:PORT} (port 0: any); the
     * host's policy decides on the address it really bound. Connections arrive through {@link OffloadedListener#accept}.
     */
    public OffloadedListener listen(String bindUri, int backlog) throws IOException {
        int id = create(VsockFrame.SOCKET_TYPE_STREAM);
        OffloadedListener listener;
        try {
            Reply bound = check(request(VsockFrame.OP_BIND, VsockFrame.HEADER_LENGTH + FrameOutbox.room(bindUri),
                    (b, at, request) -> FrameWriter.bind(b, at, id, request, bindUri)), "BIND " + bindUri);
            listener = new OffloadedListener(this, id, PayloadReader.bindReply(bound.payload(), 0, bound.length()));
            listeners.put(id, listener);
            check(request(VsockFrame.OP_LISTEN, VsockFrame.HEADER_LENGTH + 4,
                    (b, at, request) -> FrameWriter.listen(b, at, id, request, backlog)), "LISTEN");
        } catch (IOException | MalformedPayloadException e) {
            listeners.remove(id);
            closeQuietly(id);
            throw e instanceof IOException io ? io : new IOException(e.getMessage());
        }
        return listener;
    }

    /** An offloaded datagram socket (SENDTO / RECVFROM). */
    public OffloadedDatagramSocket datagramSocket() throws IOException {
        int id = create(VsockFrame.SOCKET_TYPE_DATAGRAM);
        OffloadedDatagramSocket socket = new OffloadedDatagramSocket(this, id);
        datagrams.put(id, socket);
        return socket;
    }

    /** Resolves {@code name} through the host (subject to the VM's access list on {@code dns://name}). */
    public List<InetAddress> resolve(String name) throws IOException {
        String uri = "dns://" + name;
        Reply reply = request(VsockFrame.OP_RESOLVE, VsockFrame.HEADER_LENGTH + FrameOutbox.room(uri),
                (b, at, request) -> FrameWriter.resolve(b, at, request, uri));
        if (reply.status() == Errno.ENOENT) {
            throw new UnknownHostException(name);
        }
        check(reply, "RESOLVE " + name);
        List<InetAddress> addresses = new ArrayList<>();
        try {
            for (byte[] address : PayloadReader.resolveReply(reply.payload(), 0, reply.length())) {
                addresses.add(InetAddress.getByAddress(name, address));
            }
        } catch (MalformedPayloadException e) {
            session.violation("malformed payload: " + e.getMessage());
            throw new IOException("the host's RESOLVE reply is malformed: " + e.getMessage());
        }
        return addresses;
    }

    void sendTo(int id, String uri, byte[] data, int offset, int length) throws IOException {
        ByteBuffer datagram = ByteBuffer.wrap(data, offset, length);
        if (!session.outbox().send(VsockFrame.HEADER_LENGTH + FrameOutbox.room(uri) + length,
                (b, at) -> FrameWriter.sendTo(b, at, id, VsockFrame.NO_REQUEST_ID, uri, datagram, offset, length))) {
            throw new IOException("the session ended: " + closedBecause);
        }
    }

    void credit(int id, int bytes) {
        session.outbox().send(VsockFrame.HEADER_LENGTH + 4, (b, at) -> FrameWriter.credit(b, at, id, bytes));
    }

    void close(int id) throws IOException {
        streams.remove(id);
        datagrams.remove(id);
        listeners.remove(id);
        if (isOpen()) {
            request(VsockFrame.OP_CLOSE, VsockFrame.HEADER_LENGTH, (b, at, request) -> FrameWriter.close(b, at, id, request));
        }
    }

    private void closeQuietly(int id) {
        try {
            close(id);
        } catch (IOException e) {
            // the session is gone; so is the socket
        }
    }

    @Override
    public void onFrame(Session session, VsockFrame frame, ByteBuffer buffer, int offset, int length) {
        int id = frame.socketId();
        try {
            switch (frame.op()) {
                case VsockFrame.OP_REPLY -> {
                    Pending waiting = pending.remove(frame.requestId());
                    if (waiting == null) {
                        session.violation("a reply to no request (" + frame.requestId() + ")");
                        return;
                    }
                    int status = PayloadReader.status(waiting.op(), buffer, offset, length);
                    ByteBuffer payload = ByteBuffer.allocate(length);
                    buffer.get(offset, payload.array());
                    waiting.reply().complete(new Reply(status, payload));
                }
                case VsockFrame.OP_DATA -> {
                    SocketStream stream = streams.get(id);
                    if (stream != null && !stream.received(buffer, offset, length)) {
                        session.violation("socket " + id + ": the host sent more than its credit");
                    }
                }
                case VsockFrame.OP_CREDIT -> {
                    long bytes = PayloadReader.credit(buffer, offset, length);
                    SocketStream stream = streams.get(id);
                    if (stream != null) {
                        stream.credit(bytes);
                    }
                }
                case VsockFrame.OP_SHUTDOWN -> {
                    int how = PayloadReader.shutdown(buffer, offset, length);
                    SocketStream stream = streams.get(id);
                    if (stream != null && (how & VsockFrame.SHUTDOWN_WRITE) != 0) {
                        stream.peerShutdown();
                    }
                }
                case VsockFrame.OP_CLOSE -> {
                    int errno = PayloadReader.hostClose(buffer, offset, length);
                    SocketStream stream = streams.remove(id);
                    if (stream != null) {
                        stream.fail(errno == Errno.OK ? Errno.ECONNRESET : errno);
                    }
                }
                case VsockFrame.OP_ACCEPT -> {
                    PayloadReader.Accept accept = PayloadReader.accept(buffer, offset, length);
                    OffloadedListener listener = listeners.get(accept.listeningSocketId());
                    if (listener == null || (id & 1) != 0 || streams.containsKey(id)) {
                        session.violation("ACCEPT of socket " + id + " for listener " + accept.listeningSocketId());
                        return;
                    }
                    SocketStream stream = new SocketStream(session, id, SocketStream.DEFAULT_WINDOW, accept.initialCredit());
                    streams.put(id, stream);
                    listener.arrived(new OffloadedSocket(this, id, stream, accept.peerUri()));
                }
                case VsockFrame.OP_RECVFROM -> {
                    PayloadReader.Datagram datagram = PayloadReader.recvFrom(buffer, offset, length);
                    OffloadedDatagramSocket socket = datagrams.get(id);
                    if (socket != null) {
                        byte[] data = new byte[datagram.dataLength()];
                        buffer.get(datagram.dataOffset(), data);
                        socket.deliver(datagram.uri(), data);
                    }
                }
                case VsockFrame.OP_GOODBYE -> {
                    PayloadReader.Goodbye goodbye = PayloadReader.goodbye(buffer, offset, length);
                    closedBecause = "the host said goodbye (" + Errno.name(goodbye.status()) + "): " + goodbye.reason();
                    session.close();
                }
                default -> session.violation("op " + VsockFrame.opName(frame.op()) + " is not for the guest");
            }
        } catch (MalformedPayloadException e) {
            session.violation("malformed payload: " + e.getMessage());
        }
    }

    @Override
    public void onClosed(Session session, String reason) {
        if (closedBecause == null) {
            closedBecause = reason;
        }
        IOException gone = new IOException("the session ended: " + closedBecause);
        pending.values().forEach(p -> p.reply().completeExceptionally(gone));
        pending.clear();
        streams.values().forEach(s -> s.fail(Errno.ECONNRESET));
        datagrams.values().forEach(OffloadedDatagramSocket::sessionEnded);
    }

    @Override
    public void close() {
        session.close();
    }

    /** A connected offloaded stream socket. */
    public static final class OffloadedSocket implements AutoCloseable {
        private final GuestClient client;
        private final int id;
        private final SocketStream stream;
        private final String localUri;

        OffloadedSocket(GuestClient client, int id, SocketStream stream, String localUri) {
            this.client = client;
            this.id = id;
            this.stream = stream;
            this.localUri = localUri;
        }

        public InputStream in() {
            return stream.in();
        }

        public OutputStream out() {
            return stream.out();
        }

        /**
         * For a connected socket the host socket's own address, as the destination sees the connection;
         * for an accepted one, the peer's address.
         */
        public String localUri() {
            return localUri;
        }

        /** How much the host may have in flight to this socket now (it grows while the reader keeps up). */
        public int receiveWindow() {
            return stream.window();
        }

        /** GETSOCKNAME: the host socket's address as the host sees it now. */
        public String socketName() throws IOException {
            Reply reply = client.check(client.request(VsockFrame.OP_GETSOCKNAME, VsockFrame.HEADER_LENGTH,
                    (b, at, request) -> FrameWriter.getSockName(b, at, id, request)), "GETSOCKNAME");
            return client.read(() -> PayloadReader.sockNameReply(reply.payload(), 0, reply.length()));
        }

        /** GETPEERNAME: the destination (or, for an accepted socket, the peer) as a URI. */
        public String peerName() throws IOException {
            Reply reply = client.check(client.request(VsockFrame.OP_GETPEERNAME, VsockFrame.HEADER_LENGTH,
                    (b, at, request) -> FrameWriter.getPeerName(b, at, id, request)), "GETPEERNAME");
            return client.read(() -> PayloadReader.peerNameReply(reply.payload(), 0, reply.length()));
        }

        /** SETSOCKOPT on the host socket: an {@code OPTION_*} of {@link VsockFrame}. */
        public void setOption(int option, int value) throws IOException {
            client.check(client.request(VsockFrame.OP_SETSOCKOPT, VsockFrame.HEADER_LENGTH + 6,
                    (b, at, request) -> FrameWriter.setSockOpt(b, at, id, request, option, value)), "SETSOCKOPT " + option);
        }

        /** GETSOCKOPT of the host socket. */
        public int option(int option) throws IOException {
            Reply reply = client.check(client.request(VsockFrame.OP_GETSOCKOPT, VsockFrame.HEADER_LENGTH + 2,
                    (b, at, request) -> FrameWriter.getSockOpt(b, at, id, request, option)), "GETSOCKOPT " + option);
            return client.read(() -> PayloadReader.getSockOptReply(reply.payload(), 0, reply.length()));
        }

        /**
         * POLL: which of {@code events} ({@code POLL_*}) hold for the socket. Input readiness is known
         * here (data the host sent waits in this socket's buffer); the rest the host answers.
         */
        public int poll(int events) throws IOException {
            Reply reply = client.check(client.request(VsockFrame.OP_POLL, VsockFrame.HEADER_LENGTH + 2,
                    (b, at, request) -> FrameWriter.poll(b, at, id, request, events)), "POLL");
            int revents = client.read(() -> PayloadReader.pollReply(reply.payload(), 0, reply.length()));
            if ((events & VsockFrame.POLL_IN) != 0 && stream.hasBufferedInput()) {
                revents |= VsockFrame.POLL_IN;
            }
            return revents;
        }

        /** SHUTDOWN(write): the destination reads to its end; this socket still reads. */
        public void shutdownOutput() throws IOException {
            stream.out().close();
        }

        /** SHUTDOWN(read): the host stops reading the destination for this socket. */
        public void shutdownInput() throws IOException {
            client.check(client.request(VsockFrame.OP_SHUTDOWN, VsockFrame.HEADER_LENGTH + 1,
                    (b, at, request) -> FrameWriter.shutdown(b, at, id, request, VsockFrame.SHUTDOWN_READ)), "SHUTDOWN");
            stream.peerShutdown();
        }

        @Override
        public void close() throws IOException {
            stream.close();
            client.close(id);
        }
    }

    /** Reads a reply's data; a malformed one ends the session (the host broke the protocol). */
    private <T> T read(java.util.function.Supplier<T> reader) throws IOException {
        try {
            return reader.get();
        } catch (MalformedPayloadException e) {
            session.violation("malformed payload: " + e.getMessage());
            throw new IOException("the host's reply is malformed: " + e.getMessage());
        }
    }

    /** A listening socket on the host; {@link #accept} hands over each connection that arrived. */
    public static final class OffloadedListener implements AutoCloseable {
        private final GuestClient client;
        private final int id;
        private final String boundUri;
        private final BlockingQueue<OffloadedSocket> arrived = new ArrayBlockingQueue<>(1024);

        OffloadedListener(GuestClient client, int id, String boundUri) {
            this.client = client;
            this.id = id;
            this.boundUri = boundUri;
        }

        /** Where the host listens: {@code tcp://HOST:PORT}. */
        public String boundUri() {
            return boundUri;
        }

        void arrived(OffloadedSocket socket) {
            if (!arrived.offer(socket)) {
                try {
                    socket.close(); // more waiting than any backlog: refuse, as a full kernel queue would
                } catch (IOException e) {
                    // the session is gone
                }
            }
        }

        /** The next connection, or null after {@code timeoutMillis}; its {@link OffloadedSocket#localUri()} is the peer's URI. */
        public OffloadedSocket accept(long timeoutMillis) throws IOException {
            try {
                OffloadedSocket socket = arrived.poll(timeoutMillis, TimeUnit.MILLISECONDS);
                if (socket == null && !client.isOpen()) {
                    throw new IOException("the session ended");
                }
                return socket;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }

        @Override
        public void close() throws IOException {
            client.close(id);
        }
    }

    /** An offloaded datagram socket: {@link #sendTo} and {@link #receive}. */
    public static final class OffloadedDatagramSocket implements AutoCloseable {
        private final GuestClient client;
        private final int id;
        private final BlockingQueue<Datagram> received = new ArrayBlockingQueue<>(256);
        private volatile boolean ended;

        /** A datagram that came back, with its source as a URI ({@code udp://host:port}). */
        public record Datagram(String source, byte[] data) {
        }

        OffloadedDatagramSocket(GuestClient client, int id) {
            this.client = client;
            this.id = id;
        }

        public void sendTo(String uri, byte[] data, int offset, int length) throws IOException {
            client.sendTo(id, uri, data, offset, length);
        }

        /** The next datagram, or null after {@code timeoutMillis}. */
        public Datagram receive(long timeoutMillis) throws IOException {
            try {
                Datagram datagram = received.poll(timeoutMillis, TimeUnit.MILLISECONDS);
                if (datagram != null) {
                    client.credit(id, datagram.data().length);
                } else if (ended) {
                    throw new IOException("the session ended");
                }
                return datagram;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }

        void deliver(String source, byte[] data) {
            received.offer(new Datagram(source, data)); // a full queue loses datagrams, as UDP may
        }

        void sessionEnded() {
            ended = true;
        }

        @Override
        public void close() throws IOException {
            client.close(id);
        }
    }
}
