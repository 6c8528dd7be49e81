package dev.vnet.vsock.guest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Supplier;

/**
 * A stub DNS server on the VM's loopback that answers the guest's lookups through the offload
 * ({@code RESOLVE dns://name}), so names resolve even in a VM with no NIC; the host's access list
 * decides which names may be looked up. It answers one question of type A or AAAA (class IN) per
 * query (RFC 1035 §4.1), with the host's addresses of that family and a 60 s TTL; a name the host
 * cannot or may not resolve gets NXDOMAIN or REFUSED, anything else NOTIMP. Point the guest's
 * resolver at it (a namespace VM: {@code /etc/netns/NAME/resolv.conf} with {@code nameserver 127.0.0.1}).
 */
public final class DnsFront implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DnsFront.class);
    private static final int TYPE_A = 1;
    private static final int TYPE_AAAA = 28;
    private static final int CLASS_IN = 1;
    private static final int RCODE_SERVFAIL = 2;
    private static final int RCODE_NXDOMAIN = 3;
    private static final int RCODE_NOTIMP = 4;
    private static final int RCODE_REFUSED = 5;
    private static final int TTL_SECONDS = 60;

    private final DatagramSocket socket;
    private final Supplier<GuestClient> clients;

    public DnsFront(InetSocketAddress listen, Supplier<GuestClient> clients) throws IOException {
        this.socket = new DatagramSocket(listen);
        this.clients = clients;
    }

    public DnsFront start() {
        Thread.ofVirtual().name("dns-front").start(() -> {
            byte[] buffer = new byte[512];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket query = new DatagramPacket(buffer, buffer.length);
                    socket.receive(query);
                    byte[] copy = java.util.Arrays.copyOf(buffer, query.getLength());
                    var from = query.getSocketAddress();
                    Thread.ofVirtual().start(() -> answer(copy, from));
                } catch (IOException e) {
                    if (!socket.isClosed()) {
                        LOG.debug("dns front: {}", e.toString());
                    }
                }
            }
        });
        return this;
    }

    private void answer(byte[] query, java.net.SocketAddress from) {
        byte[] response = respond(query, name -> {
            GuestClient client = clients.get();
            if (client == null) {
                throw new IOException("no session to the host");
            }
            return client.resolve(name);
        });
        if (response != null) {
            try {
                socket.send(new DatagramPacket(response, response.length, from));
            } catch (IOException e) {
                LOG.debug("dns front: {}", e.toString());
            }
        }
    }

    /** How a name becomes addresses (the offload, or a test's table). */
    @FunctionalInterface
    interface Resolver {
        List<InetAddress> resolve(String name) throws IOException;
    }

    /** The response to {@code query}, or null for input that is not a DNS query at all. */
    static byte[] respond(byte[] query, Resolver resolver) {
        ByteBuffer in = ByteBuffer.wrap(query);
        try {
            int id = in.getShort() & 0xFFFF;
            int flags = in.getShort() & 0xFFFF;
            int questions = in.getShort() & 0xFFFF;
            in.position(12);
            if ((flags & 0x8000) != 0) {
                return null; // a response, not a query
            }
            int opcode = (flags >> 11) & 0xF;
            if (opcode != 0 || questions != 1) {
                return header(id, flags, RCODE_NOTIMP, query, 12, 0);
            }
            String name = readName(in);
            int type = in.getShort() & 0xFFFF;
            int klass = in.getShort() & 0xFFFF;
            int questionEnd = in.position();
            if (klass != CLASS_IN || (type != TYPE_A && type != TYPE_AAAA)) {
                return header(id, flags, RCODE_NOTIMP, query, questionEnd, 0);
            }
            List<InetAddress> addresses;
            try {
                addresses = resolver.resolve(name);
            } catch (UnknownHostException e) {
                return header(id, flags, RCODE_NXDOMAIN, query, questionEnd, 0);
            } catch (OffloadException e) {
                return header(id, flags, e.denied() ? RCODE_REFUSED : RCODE_SERVFAIL, query, questionEnd, 0);
            } catch (IOException e) {
                return header(id, flags, RCODE_SERVFAIL, query, questionEnd, 0);
            }
            List<InetAddress> matching = addresses.stream()
                    .filter(a -> type == TYPE_A ? a instanceof Inet4Address : a instanceof Inet6Address).toList();
            byte[] head = header(id, flags, 0, query, questionEnd, matching.size());
            ByteBuffer out = ByteBuffer.allocate(head.length + matching.size() * (12 + 16));
            out.put(head);
            for (InetAddress address : matching) {
                byte[] bytes = address.getAddress();
                out.putShort((short) 0xC00C); // a pointer to the question's name
                out.putShort((short) type).putShort((short) CLASS_IN).putInt(TTL_SECONDS);
                out.putShort((short) bytes.length).put(bytes);
            }
            return java.util.Arrays.copyOf(out.array(), out.position());
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return null; // not a well-formed query: no answer, as a resolver would drop it
        }
    }

    /** The header (and the question, copied) of a response with {@code rcode} and {@code answers} answers. */
    private static byte[] header(int id, int queryFlags, int rcode, byte[] query, int questionEnd, int answers) {
        ByteBuffer out = ByteBuffer.allocate(questionEnd);
        int recursionDesired = queryFlags & 0x0100;
        out.putShort((short) id);
        out.putShort((short) (0x8000 | 0x0080 | recursionDesired | rcode)); // QR, RA
        out.putShort((short) (questionEnd > 12 ? 1 : 0));
        out.putShort((short) answers);
        out.putShort((short) 0).putShort((short) 0);
        out.put(query, 12, questionEnd - 12);
        return out.array();
    }

    private static String readName(ByteBuffer in) {
        StringBuilder name = new StringBuilder();
        while (true) {
            int length = in.get() & 0xFF;
            if (length == 0) {
                break;
            }
            if (length > 63 || name.length() + length > 253) {
                throw new IllegalArgumentException("not a plain name"); // compression has no place in a question
            }
            byte[] label = new byte[length];
            in.get(label);
            if (!name.isEmpty()) {
                name.append('.');
            }
            name.append(new String(label, java.nio.charset.StandardCharsets.US_ASCII));
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("the root has no address");
        }
        return name.toString().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public void close() {
        socket.close();
    }
}
