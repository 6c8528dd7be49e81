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
 * The processes of {@code LabGatewayIT}, run in the lab's namespaces with this class path:
 * <ul>
 *   <li>{@code serve NAME DOWN_FILE}: a backend. HTTP on port 80 answers {@code NAME} to any path and
 *       {@code /healthz} with 200, or 503 while {@code DOWN_FILE} exists (so a test fails a health check
 *       without touching the connections the backend serves); TCP 7000 greets every connection with
 *       {@code NAME SOURCE:PORT} and echoes lines; UDP 7001 answers every datagram with {@code NAME
 *       SOURCE:PORT DATA}.</li>
 *   <li>{@code clients HOST PORT COUNT}: opens COUNT long-lived connections to a {@code serve} echo port
 *       (through a VIP) and remembers the backend that greeted each; then, for every {@code round} line on
 *       standard input, sends a distinct line on every connection and checks its echo, and prints
 *       {@code round ok=N failed=M} with the failures per backend. {@code quit} closes them.</li>
 *   <li>{@code tcp-ask HOST PORT} and {@code udp-ask HOST PORT}: one greeting or one UDP answer, printed.</li>
 * </ul>
 */
final class GatewayTestPeer {
    static final int HTTP_PORT = 80;
    static final int ECHO_PORT = 7000;
    static final int UDP_PORT = 7001;
    private static final int CONNECT_TIMEOUT_MS = 15_000;
    private static final int ECHO_TIMEOUT_MS = 15_000;
    private static final int CONNECTS_AT_ONCE = 32;

    private GatewayTestPeer() {
    }

    public static void main(String[] arguments) throws Exception {
        switch (arguments[0]) {
            case "serve" -> serve(arguments[1], Path.of(arguments[2]));
            case "clients" -> clients(arguments[1], Integer.parseInt(arguments[2]), Integer.parseInt(arguments[3]));
            case "tcp-ask" -> tcpAsk(arguments[1], Integer.parseInt(arguments[2]));
            case "udp-ask" -> udpAsk(arguments[1], Integer.parseInt(arguments[2]));
            default -> throw new IllegalArgumentException("unknown mode " + arguments[0]);
        }
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

    private static void clients(String host, int port, int count) throws Exception {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getByName(host), port);
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
                        return open(target);
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
                    failedToOpen.incrementAndGet();
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
    }

    private static Connection open(InetSocketAddress target) throws IOException {
        Socket socket = new Socket();
        try {
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
