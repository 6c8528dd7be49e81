package dev.vnet.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Load client and sink for {@code vnet-bench/scripts/vsock-throughput.sh}: the same TCP transfer over
 * the overlay (the guest's own stack) and through socket offload (the guest's SOCKS5 front, then the
 * host's device and the host's own TCP socket). Plain JDK, no dependencies: the script compiles this
 * one file with {@code javac} and runs it in the namespaces it needs.
 *
 * <ul>
 *   <li>{@code sink PORT}: accepts on every address, reads and discards each connection until its end,
 *       then closes it (that close is the sender's acknowledgement that every byte arrived).
 *   <li>{@code throughput HOST PORT SECONDS [socks=PORT]}: one TCP stream writing 64 KiB chunks for
 *       SECONDS, then a half-close and a wait for the sink's close; prints
 *       {@code bits_per_second=N bytes=B seconds=S busy_jiffies=J}, measured at the sender from the
 *       first write to the sink's close, so the bytes are counted only once they really arrived;
 *       J is the whole machine's busy CPU time in that window (/proc/stat, clock ticks).
 *   <li>{@code connect HOST PORT COUNT [socks=PORT] [warmup=N]}: N unmeasured connects (default 10),
 *       then COUNT sequential connects, each to the sink and then closed; prints
 *       {@code count=C p50_ms=.. p90_ms=.. max_ms=..}. A connect through SOCKS5 returns once the
 *       front has answered, which it does only after the host's own connect succeeded: both paths
 *       time a full connection to the sink.
 * </ul>
 * With {@code socks=PORT} the client connects through a SOCKS5 proxy at 127.0.0.1:PORT and sends the
 * destination unresolved (the proxy, not the client, sees the address).
 */
public final class VsockLoad {
    private static final int CHUNK = 64 * 1024;

    private VsockLoad() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        switch (args[0]) {
            case "sink" -> sink(Integer.parseInt(args[1]));
            case "throughput" -> {
                if (args.length < 4) {
                    usage();
                }
                throughput(args[1], Integer.parseInt(args[2]), Double.parseDouble(args[3]), option(args, 4, "socks", 0));
            }
            case "connect" -> {
                if (args.length < 4) {
                    usage();
                }
                connect(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), option(args, 4, "socks", 0),
                        option(args, 4, "warmup", 10));
            }
            default -> usage();
        }
    }

    private static void usage() {
        System.err.println("usage: VsockLoad sink PORT | throughput HOST PORT SECONDS [socks=PORT] "
                + "| connect HOST PORT COUNT [socks=PORT] [warmup=N]");
        System.exit(2);
    }

    private static int option(String[] args, int from, String name, int otherwise) {
        for (int i = from; i < args.length; i++) {
            if (args[i].startsWith(name + "=")) {
                return Integer.parseInt(args[i].substring(name.length() + 1));
            }
        }
        return otherwise;
    }

    private static void sink(int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 1024);
            System.out.println("listening " + port);
            System.out.flush();
            while (true) {
                Socket socket = server.accept();
                Thread.ofVirtual().start(() -> drain(socket));
            }
        }
    }

    private static void drain(Socket socket) {
        try (socket; InputStream in = socket.getInputStream()) {
            byte[] buffer = new byte[256 * 1024];
            while (in.read(buffer) >= 0) {
                // discard
            }
        } catch (IOException e) {
            // the sender went away
        }
    }

    private static Socket open(int socksPort) {
        return socksPort > 0 ? new Socket(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress("127.0.0.1", socksPort))) : new Socket();
    }

    private static SocketAddress target(String host, int port, int socksPort) {
        return socksPort > 0 ? InetSocketAddress.createUnresolved(host, port) : new InetSocketAddress(host, port);
    }

    private static void throughput(String host, int port, double seconds, int socksPort) throws IOException {
        byte[] chunk = new byte[CHUNK];
        ThreadLocalRandom.current().nextBytes(chunk);
        try (Socket socket = open(socksPort)) {
            socket.connect(target(host, port, socksPort), 10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            long bytes = 0;
            long busyBefore = busyJiffies();
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                out.write(chunk);
                bytes += CHUNK;
            }
            socket.shutdownOutput();
            byte[] rest = new byte[1024];
            while (in.read(rest) >= 0) {
                // the sink sends nothing; EOF is its close after reading every byte
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            long busy = busyJiffies() - busyBefore;
            System.out.printf(Locale.ROOT, "bits_per_second=%d bytes=%d seconds=%.3f busy_jiffies=%d%n",
                    (long) (bytes * 8 / elapsed), bytes, elapsed, busy);
        }
    }

    /**
     * The whole machine's busy time so far (user, nice, system, irq, softirq, steal of /proc/stat's
     * first line, in clock ticks), or -1 where there is no /proc/stat.
     */
    private static long busyJiffies() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7]) + Long.parseLong(f[8]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void connect(String host, int port, int count, int socksPort, int warmup) throws IOException {
        double[] millis = new double[count];
        for (int i = -warmup; i < count; i++) {
            Socket socket = open(socksPort);
            long start = System.nanoTime();
            try {
                socket.connect(target(host, port, socksPort), 10_000);
            } finally {
                long took = System.nanoTime() - start;
                socket.close();
                if (i >= 0) {
                    millis[i] = took / 1e6;
                }
            }
        }
        Arrays.sort(millis);
        System.out.printf(Locale.ROOT, "count=%d p50_ms=%.3f p90_ms=%.3f max_ms=%.3f%n",
                count, percentile(millis, 0.50), percentile(millis, 0.90), millis[count - 1]);
    }

    /** Nearest rank. */
    private static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
