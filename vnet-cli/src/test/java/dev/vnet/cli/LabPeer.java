package dev.vnet.cli;

import com.sun.net.httpserver.HttpServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The processes of the lab's end-to-end tests ({@code LabGatewayIT}, {@code LabVsockIT}), run in the
 * lab's namespaces with this class path:
 * <ul>
 *   <li>{@code serve NAME DOWN_FILE}: a backend. HTTP on port 80 answers {@code NAME} to any path and
 *       {@code /healthz} with 200, or 503 while {@code DOWN_FILE} exists (so a test fails a health check
 *       without touching the connections the backend serves); TCP 7000 greets every connection with
 *       {@code NAME SOURCE:PORT} and echoes lines; UDP 7001 answers every datagram with {@code NAME
 *       SOURCE:PORT DATA}; TCP 7002 sends 64 KiB chunks to every connection until it goes away (a
 *       firehose, for a reader that stalls).</li>
 *   <li>{@code clients HOST PORT COUNT}: opens COUNT long-lived connections to a {@code serve} echo port
 *       (through a VIP, or a SOCKS5 proxy with {@code socks=PORT}: names go to the proxy unresolved) and
 *       remembers the backend that greeted each; {@code stall=PORT} also opens one firehose connection
 *       the same way and never reads it; {@code from=ADDRESS} connects from that local address. Then, for every {@code round} line on
 *       standard input, sends a distinct line on every connection and checks its echo, and prints
 *       {@code round ok=N failed=M} with the failures per backend. {@code quit} closes them.</li>
 *   <li>{@code tcp-ask HOST PORT} and {@code udp-ask HOST PORT}: one greeting or one UDP answer, printed.</li>
 * </ul>
 */
final class LabPeer {
    static final int HTTP_PORT = 80;
    static final int ECHO_PORT = 7000;
    static final int UDP_PORT = 7001;
    static final int FIREHOSE_PORT = 7002;
    private static final int CONNECT_TIMEOUT_MS = 15_000;
    private static final int ECHO_TIMEOUT_MS = 15_000;
    private static final int CONNECTS_AT_ONCE = 32;

    private LabPeer() {
    }

    public static void main(String[] arguments) throws Exception {
        switch (arguments[0]) {
            case "serve" -> serve(arguments[1], Path.of(arguments[2]));
            case "clients" -> clients(arguments[1], Integer.parseInt(arguments[2]), Integer.parseInt(arguments[3]),
                    option(arguments, "socks="), option(arguments, "stall="), textOption(arguments, "from="));
            case "tcp-ask" -> tcpAsk(arguments[1], Integer.parseInt(arguments[2]));
            case "udp-ask" -> udpAsk(arguments[1], Integer.parseInt(arguments[2]));
            case "socks-bind" -> socksBind(Integer.parseInt(arguments[1]), arguments[2]);
            case "socks-udp-ask" -> socksUdpAsk(Integer.parseInt(arguments[1]), arguments[2], Integer.parseInt(arguments[3]));
            default -> throw new IllegalArgumentException("unknown mode " + arguments[0]);
        }
    }

    /** The command line that runs this class with {@code arguments}, with the test's JVM and class path. */
    static String[] command(String... arguments) {
        java.util.List<String> command = new java.util.ArrayList<>(Launchers.sameJvm().vnetCommand());
        command.set(command.size() - 1, LabPeer.class.getName());
        command.addAll(java.util.List.of(arguments));
        return command.toArray(String[]::new);
    }

    /** The value of {@code key=VALUE} among the arguments after the fourth, or -1. */
    private static int option(String[] arguments, String key) {
        String value = textOption(arguments, key);
        return value == null ? -1 : Integer.parseInt(value);
    }

    /** The text of {@code key=VALUE} among the arguments after the fourth, or null. */
    private static String textOption(String[] arguments, String key) {
        for (int i = 4; i < arguments.length; i++) {
            if (arguments[i].startsWith(key)) {
                return arguments[i].substring(key.length());
            }
        }
        return null;
    }

    private static void serve(String name, Path downFile) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(HTTP_PORT), 256);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/", exchange -> {
            boolean health = exchange.getRequestURI().getPath().equals("/healthz");
            int status = health && Files.exists(downFile) ? 503 : 200;
            byte[] body = ((health ? (status == 200 ? "ok" : "down") : name) + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        Thread.ofPlatform().start(() -> udpEcho(name));
        Thread.ofPlatform().start(LabPeer::firehose);
        try (ServerSocket echo = new ServerSocket()) {
            echo.setReuseAddress(true);
            echo.bind(new InetSocketAddress(ECHO_PORT), 4096);
            while (true) {
                Socket connection = echo.accept();
                Thread.ofVirtual().start(() -> echo(name, connection));
            }
        }
    }

    private static void echo(String name, Socket connection) {
        try (connection) {
            var out = new PrintStream(connection.getOutputStream(), true, StandardCharsets.UTF_8);
            out.println(name + " " + connection.getInetAddress().getHostAddress() + ":" + connection.getPort());
            var in = new BufferedReader(new InputStreamReader(connection.getInputStream(), StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.println(line);
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    private static void firehose() {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(FIREHOSE_PORT), 64);
            while (true) {
                Socket connection = server.accept();
                Thread.ofVirtual().start(() -> {
                    byte[] chunk = new byte[64 * 1024];
                    try (connection; OutputStream out = connection.getOutputStream()) {
                        while (true) {
                            out.write(chunk);
                        }
                    } catch (IOException e) {
                        // the reader went away
                    }
                });
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void udpEcho(String name) {
        try (DatagramSocket socket = new DatagramSocket(UDP_PORT)) {
            byte[] buffer = new byte[2048];
            while (true) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                String data = new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
                byte[] answer = (name + " " + packet.getAddress().getHostAddress() + ":" + packet.getPort() + " " + data)
                        .getBytes(StandardCharsets.UTF_8);
                socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Connection(Socket socket, BufferedReader in, PrintStream out, String backend) {
    }

    private static void clients(String host, int port, int count, int socksPort, int stallPort, String from) throws Exception {
        java.net.Proxy proxy = socksPort < 0 ? java.net.Proxy.NO_PROXY
                : new java.net.Proxy(java.net.Proxy.Type.SOCKS, new InetSocketAddress(InetAddress.getLoopbackAddress(), socksPort));
        InetSocketAddress target = socksPort < 0 ? new InetSocketAddress(InetAddress.getByName(host), port)
                : InetSocketAddress.createUnresolved(host, port);
        Socket stalled = null;
        if (stallPort >= 0) {
            stalled = new Socket(proxy);
            stalled.connect(socksPort < 0 ? new InetSocketAddress(InetAddress.getByName(host), stallPort)
                    : InetSocketAddress.createUnresolved(host, stallPort), CONNECT_TIMEOUT_MS);
            stalled.getInputStream().read(); // the firehose is flowing; from now on nobody reads it
        }
        List<Connection> connections = new ArrayList<>();
        Map<String, Integer> opened = new TreeMap<>();
        AtomicInteger failedToOpen = new AtomicInteger();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            // A few at a time: the gateway queues a new client's first packets while it asks for a token.
            Semaphore atOnce = new Semaphore(CONNECTS_AT_ONCE);
            List<Future<Connection>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                futures.add(executor.submit(() -> {
                    atOnce.acquire();
                    try {
                        return open(target, proxy, from);
                    } finally {
                        atOnce.release();
                    }
                }));
            }
            for (Future<Connection> future : futures) {
                try {
                    Connection connection = future.get();
                    connections.add(connection);
                    opened.merge(connection.backend(), 1, Integer::sum);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (failedToOpen.incrementAndGet() <= 3) {
                        System.err.println("a connection did not open: " + e.getCause());
                    }
                }
            }
        }
        System.out.println("open ok=" + connections.size() + " failed=" + failedToOpen.get() + " backends=" + opened);
        var commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        int round = 0;
        for (String command = commands.readLine(); command != null && !command.equals("quit"); command = commands.readLine()) {
            round++;
            System.out.println(round(connections, round));
        }
        for (Connection connection : connections) {
            connection.socket().close();
        }
        if (stalled != null) {
            stalled.close();
        }
    }

    private static Connection open(InetSocketAddress target, java.net.Proxy proxy, String from) throws IOException {
        Socket socket = new Socket(proxy);
        try {
            if (from != null) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            }
            socket.connect(target, CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(ECHO_TIMEOUT_MS);
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String greeting = in.readLine();
            if (greeting == null) {
                throw new IOException("closed before the greeting");
            }
            return new Connection(socket, in, new PrintStream(socket.getOutputStream(), true, StandardCharsets.UTF_8),
                    greeting.split(" ")[0]);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends a line on every connection at once and checks every echo: {@code round ok=N failed=M failed_backends={…}}. */
    private static String round(List<Connection> connections, int round) throws InterruptedException {
        AtomicInteger ok = new AtomicInteger();
        Map<String, Integer> failedByBackend = new ConcurrentHashMap<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < connections.size(); i++) {
                Connection connection = connections.get(i);
                String line = "round-" + round + "-connection-" + i;
                executor.submit(() -> {
                    String why;
                    try {
                        connection.out().println(line);
                        String echo = connection.in().readLine();
                        if (line.equals(echo)) {
                            ok.incrementAndGet();
                            return;
                        }
                        why = "echo " + echo;
                    } catch (IOException e) {
                        why = e.toString();
                    }
                    failedByBackend.merge(connection.backend(), 1, Integer::sum);
                    System.err.println("connection from port " + connection.socket().getLocalPort() + " to "
                            + connection.backend() + " failed: " + why);
                });
            }
        }
        int failed = connections.size() - ok.get();
        return "round ok=" + ok.get() + " failed=" + failed + " failed_backends=" + new TreeMap<>(failedByBackend);
    }

    private static void tcpAsk(String host, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(ECHO_TIMEOUT_MS);
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            System.out.println(in.readLine());
        }
    }

    /**
     * A listening socket through a SOCKS5 proxy (RFC 1928 BIND): prints {@code bound HOST:PORT} after
     * the first reply and {@code peer HOST:PORT} after the second, greets the peer with
     * {@code hello from the guest} and exits.
     */
    private static void socksBind(int socksPort, String expectedPeer) throws IOException {
        try (Socket control = new Socket(InetAddress.getLoopbackAddress(), socksPort)) {
            control.setSoTimeout(60_000);
            var out = control.getOutputStream();
            var in = new java.io.DataInputStream(control.getInputStream());
            out.write(new byte[]{5, 1, 0});
            if (in.readUnsignedByte() != 5 || in.readUnsignedByte() != 0) {
                throw new IOException("the proxy wants authentication");
            }
            byte[] peer = InetAddress.getByName(expectedPeer).getAddress();
            out.write(new byte[]{5, 2, 0, 1, peer[0], peer[1], peer[2], peer[3], 0, 0});
            for (String label : new String[]{"bound", "peer"}) {
                byte[] head = in.readNBytes(4);
                if (head[1] != 0) {
                    throw new IOException("BIND refused: reply " + head[1]);
                }
                InetAddress address = InetAddress.getByAddress(in.readNBytes(head[3] == 1 ? 4 : 16));
                System.out.println(label + " " + address.getHostAddress() + ":" + in.readUnsignedShort());
                System.out.flush();
            }
            out.write("hello from the guest\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            control.shutdownOutput();
            in.readAllBytes();
        }
    }

    /**
     * One UDP round trip through a SOCKS5 proxy (RFC 1928 UDP ASSOCIATE): the request on a TCP
     * connection, then the question wrapped in the UDP request header to the relay it named.
     */
    private static void socksUdpAsk(int socksPort, String host, int port) throws IOException {
        try (Socket control = new Socket(InetAddress.getLoopbackAddress(), socksPort);
             DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            control.setSoTimeout(ECHO_TIMEOUT_MS);
            var out = control.getOutputStream();
            var in = new java.io.DataInputStream(control.getInputStream());
            out.write(new byte[]{5, 1, 0});
            if (in.readUnsignedByte() != 5 || in.readUnsignedByte() != 0) {
                throw new IOException("the proxy wants authentication");
            }
            out.write(new byte[]{5, 3, 0, 1, 0, 0, 0, 0, 0, 0});
            byte[] head = in.readNBytes(4);
            if (head[1] != 0) {
                throw new IOException("UDP ASSOCIATE refused: reply " + head[1]);
            }
            InetAddress relayAddress = InetAddress.getByAddress(in.readNBytes(4));
            int relayPort = in.readUnsignedShort();
            byte[] address = InetAddress.getByName(host).getAddress();
            byte[] question = "question".getBytes(StandardCharsets.UTF_8);
            java.nio.ByteBuffer wrapped = java.nio.ByteBuffer.allocate(4 + 4 + 2 + question.length);
            wrapped.putShort((short) 0).put((byte) 0).put((byte) 1).put(address).putShort((short) port).put(question);
            socket.setSoTimeout(2_000);
            byte[] buffer = new byte[2048];
            for (int attempt = 0; attempt < 5; attempt++) {
                socket.send(new DatagramPacket(wrapped.array(), wrapped.capacity(), relayAddress, relayPort));
                DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(answer);
                    int dataOffset = 4 + (buffer[3] == 1 ? 4 : 16) + 2;
                    System.out.println(new String(buffer, dataOffset, answer.getLength() - dataOffset, StandardCharsets.UTF_8));
                    return;
                } catch (SocketTimeoutException e) {
                    // ask again
                }
            }
            throw new IOException("no answer through the proxy from udp://" + host + ":" + port);
        }
    }

    private static void udpAsk(String host, int port) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(2_000);
            byte[] question = "question".getBytes(StandardCharsets.UTF_8);
            byte[] buffer = new byte[2048];
            // UDP may lose the first datagram while the path's tokens are fetched: ask a few times.
            for (int attempt = 0; attempt < 5; attempt++) {
                socket.send(new DatagramPacket(question, question.length, new InetSocketAddress(host, port)));
                DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(answer);
                    System.out.println(new String(answer.getData(), 0, answer.getLength(), StandardCharsets.UTF_8));
                    return;
                } catch (SocketTimeoutException e) {
                    // ask again
                }
            }
            throw new IOException("no answer from udp://" + host + ":" + port);
        }
    }
}
