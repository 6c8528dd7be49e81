package dev.vnet.bgp;

import dev.vnet.bgp.wire.BgpMessage;
import dev.vnet.bgp.wire.Capability;
import dev.vnet.bgp.wire.Keepalive;
import dev.vnet.bgp.wire.Open;
import dev.vnet.bgp.wire.RawMessages;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;

/** A scripted BGP peer on a plain socket: sends whatever bytes a test wants and reads what comes back. */
final class RawPeer implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;

    RawPeer(InetSocketAddress local, InetSocketAddress speaker) throws IOException {
        socket = new Socket();
        socket.bind(new InetSocketAddress(local.getAddress(), 0));
        socket.connect(speaker, 5000);
        socket.setSoTimeout(20_000);
        in = new DataInputStream(socket.getInputStream());
    }

    static Open open(long as, int holdTime, int routerId, Capability... extra) {
        List<Capability> capabilities = new java.util.ArrayList<>(List.of(Capability.Multiprotocol.VPN_IPV4, new Capability.FourOctetAs(as)));
        capabilities.addAll(List.of(extra));
        return Open.of(as, holdTime, routerId, capabilities);
    }

    void send(BgpMessage message) throws IOException {
        send(RawMessages.encode(message, true));
    }

    void send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    /** The next message from the speaker, or null when it closed the connection. */
    Object receive() throws IOException {
        byte[] header = new byte[19];
        try {
            in.readFully(header);
        } catch (EOFException e) {
            return null;
        }
        int length = (header[16] & 0xFF) << 8 | (header[17] & 0xFF);
        byte[] message = java.util.Arrays.copyOf(header, length);
        in.readFully(message, 19, length - 19);
        return RawMessages.decodeOne(message);
    }

    /** Reads past keepalives and updates to the first message of the given type (null if the speaker closed). */
    Object receiveUntil(Class<?> type) throws IOException {
        for (Object message; (message = receive()) != null; ) {
            if (type.isInstance(message)) {
                return message;
            }
        }
        return null;
    }

    /** OPEN and KEEPALIVE both ways. */
    void establish(Open open) throws IOException {
        send(open);
        Object theirs = receive();
        if (!(theirs instanceof Open)) {
            throw new IOException("expected OPEN, got " + theirs);
        }
        send(Keepalive.INSTANCE);
        Object keepalive = receive();
        if (!(keepalive instanceof Keepalive)) {
            throw new IOException("expected KEEPALIVE, got " + keepalive);
        }
    }

    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
