import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;

/**
 * Loads VPNv4 routes into a BGP speaker as fast as the wire allows: a minimal eBGP speaker that opens
 * one session (capabilities: multiprotocol VPNv4 and 4-octet AS), sends every route in UPDATEs packed
 * with up to 4,096 bytes each, then only keeps the session up (KEEPALIVEs) until it is killed or
 * --max-seconds pass, so the routes stay in the peer's RIB. Used by gobgp-propagation.sh: GoBGP 3.10
 * has no bulk load for VPNv4 from the CLI ({@code gobgp mrt inject} refuses RIB_GENERIC records and
 * {@code gobgp global rib add} takes one route per call).
 *
 * <p>Route i (0-based) of --routes: RD 65000:(1 + i / routes-per-rd), prefix 10.(k / 256).(k % 256).0/24
 * with k = i % routes-per-rd (every RD is a tenant with the same address plan), label 16 + i, route
 * target 65000:(1 + i / routes-per-rt), next hop 10.255.(h / 256).(h % 256) with h = 1 + i / routes-per-rt
 * (one next hop per route target group, like a host), and the Encapsulation extended community VXLAN.
 *
 * <p>Prints "established", then "sending EPOCH_MILLIS" before the first UPDATE and "sent N routes in U
 * UPDATEs (B bytes) in M ms" after the last. Run with {@code java GoBgpVpnv4Injector.java --peer
 * 127.0.0.1 --port 17901 ...}; plain JDK.
 */
public final class GoBgpVpnv4Injector {
    private static final int MAX_MESSAGE = 4096;
    private static final Object WRITE_LOCK = new Object();

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        String local = options.getOrDefault("local", "127.0.0.3");
        String peer = options.getOrDefault("peer", "127.0.0.1");
        int port = Integer.parseInt(options.getOrDefault("port", "179"));
        long as = Long.parseLong(options.getOrDefault("as", "65099"));
        String routerId = options.getOrDefault("router-id", "10.255.0.99");
        int routes = Integer.parseInt(options.getOrDefault("routes", "100000"));
        int perRd = Integer.parseInt(options.getOrDefault("routes-per-rd", "1000"));
        int perRt = Integer.parseInt(options.getOrDefault("routes-per-rt", "100"));
        long maxSeconds = Long.parseLong(options.getOrDefault("max-seconds", "600"));
        if (routes < 1 || routes > 1 << 20 || perRd < 1 || perRd > 65536 || perRt < 1 || routes / perRt > 65000) {
            throw new IllegalArgumentException("routes 1..1048576, routes-per-rd 1..65536, at most 65000 route targets");
        }
        long deadline = System.nanoTime() + maxSeconds * 1_000_000_000L;

        Socket socket = connect(local, peer, port, deadline);
        socket.setTcpNoDelay(true);
        DataInputStream in = new DataInputStream(socket.getInputStream());
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));

        int hold = 90;
        write(out, open(as, hold, InetAddress.getByName(routerId).getAddress()));
        byte[] message = read(in);
        if (message[18] != 1) {
            fail("expected OPEN, got " + describe(message));
        }
        int peerHold = ((message[22] & 0xff) << 8) | (message[23] & 0xff);
        if (peerHold > 0) {
            hold = Math.min(hold, peerHold); // the negotiated hold time; 0 would mean no keepalives
        }
        write(out, keepalive());
        while ((message = read(in))[18] != 4) {
            if (message[18] == 3) {
                fail("NOTIFICATION " + describe(message));
            }
        }
        System.out.println("established");
        Thread reader = Thread.ofPlatform().daemon().name("reader").start(() -> drain(in));

        long start = System.currentTimeMillis();
        System.out.println("sending " + start);
        long updates = 0;
        long bytes = 0;
        for (int group = 0; group * perRt < routes; group++) {
            int from = group * perRt;
            int to = Math.min(routes, from + perRt);
            byte[] attributes = attributes(as, 1 + group);
            ByteArrayOutputStream nlri = new ByteArrayOutputStream();
            for (int i = from; i < to; i++) {
                byte[] one = nlri(i, perRd);
                // header, withdrawn and attribute lengths (23), MP_REACH_NLRI header, family, next hop (21)
                if (23 + attributes.length + 21 + nlri.size() + one.length > MAX_MESSAGE) {
                    byte[] update = update(attributes, 1 + group, nlri.toByteArray());
                    write(out, update);
                    updates++;
                    bytes += update.length;
                    nlri.reset();
                }
                nlri.write(one);
            }
            byte[] update = update(attributes, 1 + group, nlri.toByteArray());
            write(out, update);
            updates++;
            bytes += update.length;
        }
        synchronized (WRITE_LOCK) {
            out.flush();
        }
        System.out.printf("sent %d routes in %d UPDATEs (%d bytes) in %d ms%n",
                routes, updates, bytes, System.currentTimeMillis() - start);

        while (System.nanoTime() < deadline && reader.isAlive()) {
            Thread.sleep(Math.min(Math.max(1, hold / 3) * 1000L, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            write(out, keepalive());
            synchronized (WRITE_LOCK) {
                out.flush();
            }
        }
        socket.close();
    }

    private static Socket connect(String local, String peer, int port, long deadline) throws Exception {
        while (true) {
            Socket socket = new Socket();
            try {
                socket.bind(new InetSocketAddress(local, 0));
                socket.connect(new InetSocketAddress(peer, port), 2000);
                return socket;
            } catch (IOException e) {
                socket.close();
                if (System.nanoTime() > deadline - 1_000_000_000L) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static void drain(DataInputStream in) {
        try {
            while (true) {
                byte[] message = read(in);
                if (message[18] == 3) {
                    fail("NOTIFICATION " + describe(message));
                }
            }
        } catch (EOFException e) {
            fail("the peer closed the session");
        } catch (IOException e) {
            fail("session error: " + e);
        }
    }

    private static void fail(String why) {
        System.out.println("error: " + why);
        System.out.flush();
        System.exit(1);
    }

    private static String describe(byte[] message) {
        StringBuilder hex = new StringBuilder("type " + message[18] + ":");
        for (int i = 19; i < Math.min(message.length, 40); i++) {
            hex.append(String.format(" %02x", message[i]));
        }
        return hex.toString();
    }

    private static byte[] read(DataInputStream in) throws IOException {
        byte[] header = new byte[19];
        in.readFully(header);
        int length = ((header[16] & 0xff) << 8) | (header[17] & 0xff);
        if (length < 19 || length > 65535) {
            throw new IOException("bad message length " + length);
        }
        byte[] message = new byte[length];
        System.arraycopy(header, 0, message, 0, 19);
        in.readFully(message, 19, length - 19);
        return message;
    }

    private static void write(DataOutputStream out, byte[] message) throws IOException {
        synchronized (WRITE_LOCK) {
            out.write(message);
            if (message[18] != 2) {
                out.flush();
            }
        }
    }

    private static byte[] message(int type, byte[] body) {
        byte[] message = new byte[19 + body.length];
        java.util.Arrays.fill(message, 0, 16, (byte) 0xff);
        message[16] = (byte) (message.length >> 8);
        message[17] = (byte) message.length;
        message[18] = (byte) type;
        System.arraycopy(body, 0, message, 19, body.length);
        return message;
    }

    private static byte[] keepalive() {
        return message(4, new byte[0]);
    }

    private static byte[] open(long as, int hold, byte[] routerId) throws IOException {
        ByteArrayOutputStream capabilities = new ByteArrayOutputStream();
        capabilities.write(new byte[] {1, 4, 0, 1, 0, (byte) 128}); // multiprotocol: AFI 1, SAFI 128
        capabilities.write(new byte[] {65, 4, (byte) (as >> 24), (byte) (as >> 16), (byte) (as >> 8), (byte) as});
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream data = new DataOutputStream(body);
        data.writeByte(4);
        data.writeShort(as > 0xffff ? 23456 : (int) as);
        data.writeShort(hold);
        data.write(routerId);
        data.writeByte(2 + capabilities.size());
        data.writeByte(2); // optional parameter: capabilities
        data.writeByte(capabilities.size());
        data.write(capabilities.toByteArray());
        return message(1, body.toByteArray());
    }

    /** ORIGIN IGP, AS_PATH [as], route target 65000:rt and Encapsulation VXLAN. */
    private static byte[] attributes(long as, int rt) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream data = new DataOutputStream(body);
        data.write(new byte[] {0x40, 1, 1, 0});
        data.write(new byte[] {0x40, 2, 6, 2, 1});
        data.writeInt((int) as);
        data.write(new byte[] {(byte) 0xc0, 16, 16});
        data.write(new byte[] {0x00, 0x02});
        data.writeShort(65000);
        data.writeInt(rt);
        data.write(new byte[] {0x03, 0x0c, 0, 0, 0, 0, 0, 8});
        return body.toByteArray();
    }

    private static byte[] update(byte[] attributes, int host, byte[] nlri) throws IOException {
        ByteArrayOutputStream reach = new ByteArrayOutputStream();
        DataOutputStream r = new DataOutputStream(reach);
        r.writeShort(1);
        r.writeByte(128);
        r.writeByte(12);
        r.write(new byte[8]); // next hop RD 0
        r.write(new byte[] {10, (byte) 255, (byte) (host >> 8), (byte) host});
        r.writeByte(0);
        r.write(nlri);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream data = new DataOutputStream(body);
        data.writeShort(0); // no withdrawn routes
        data.writeShort(attributes.length + 4 + reach.size());
        data.write(attributes);
        data.write(new byte[] {(byte) 0x90, 14});
        data.writeShort(reach.size());
        data.write(reach.toByteArray());
        return message(2, body.toByteArray());
    }

    /** Route i: length, label 16 + i (bottom of stack), RD 65000:(1 + i / perRd), 10.(k/256).(k%256).0/24. */
    private static byte[] nlri(int i, int perRd) {
        int label = 16 + i;
        int assigned = 1 + i / perRd;
        int k = i % perRd;
        return new byte[] {
                (byte) (24 + 64 + 24),
                (byte) (label >> 12), (byte) (label >> 4), (byte) ((label << 4) | 1),
                0, 0, (byte) (65000 >> 8), (byte) 65000,
                (byte) (assigned >> 24), (byte) (assigned >> 16), (byte) (assigned >> 8), (byte) assigned,
                10, (byte) (k >> 8), (byte) k};
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: --name value ...; got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }
}
