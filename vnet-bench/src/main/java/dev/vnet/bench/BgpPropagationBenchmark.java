package dev.vnet.bench;

import dev.vnet.bgp.BgpSpeaker;
import dev.vnet.bgp.PeerConfig;
import dev.vnet.bgp.SpeakerConfig;
import dev.vnet.bgp.VpnRoute;
import dev.vnet.bgp.session.ConnectRetry;
import dev.vnet.bgp.wire.ExtendedCommunity;
import dev.vnet.bgp.wire.Ipv4Prefix;
import dev.vnet.bgp.wire.RouteDistinguisher;
import dev.vnet.bgp.wire.TunnelType;
import dev.vnet.wire.Ipv4Address;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How fast 100,000 VPN-IPv4 routes get from one vnet BGP speaker to another, and what they cost in heap.
 *
 * <p>Speaker A (this JVM, 127.0.0.2) originates {@code --routes} routes shaped like a vnet deployment:
 * networks of 100 VMs (one route target each, so one RT per 100 routes) spread over 10 hosts each, every
 * VM a /32 with the RD of its (network, host), the network id as label, the host's underlay address as
 * next hop and the VNP encapsulation community. So 100,000 routes are 1,000 networks on 10 hosts each,
 * 10,000 distinct attribute sets of 10 routes.
 *
 * <p>Speaker B runs in a child JVM (127.0.0.3) so that each speaker's heap is measured alone. Two numbers:
 * <ol>
 *   <li><b>initial table transfer</b> (the headline): A holds the routes, B starts; from B's start to B's
 *       Loc-RIB holding all of them, measured in B (includes B's connect and the OPEN exchange, a few ms);</li>
 *   <li><b>live propagation</b>: with the session up, A originates {@code --routes} more; from the call to
 *       B reporting the total, measured in A (B polls its Loc-RIB size every millisecond).</li>
 * </ol>
 * Heap: used heap after full GCs; at A before and after originating (Loc-RIB alone) and after the transfer
 * (plus B's Adj-RIB-Out); at B before the session and after the transfer (Adj-RIB-In and Loc-RIB).
 * Both speakers listen; A's peer B is configured normally (A keeps retrying until B exists).
 *
 * <p>Options: {@code --routes N} (100000), {@code --max-seconds S} (300), {@code --child-heap SIZE} (2g).
 * Prints one block of results; exits non-zero if anything did not complete in time.
 */
public final class BgpPropagationBenchmark {
    private static final long AS = 64512;
    private static final int ROUTES_PER_NETWORK = 100;
    private static final int HOSTS_PER_NETWORK = 10;

    private BgpPropagationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        int routes = Integer.parseInt(options.getOrDefault("--routes", "100000"));
        long maxSeconds = Long.parseLong(options.getOrDefault("--max-seconds", "300"));
        if ("b".equals(options.get("--role"))) {
            runB(options, routes);
            return;
        }
        Thread watchdog = Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
                System.err.println("bgp-propagation: gave up after " + maxSeconds + " s");
                Runtime.getRuntime().halt(3);
            } catch (InterruptedException ignored) {
                // finished in time
            }
        });
        InetSocketAddress a = freePort("127.0.0.2");
        InetSocketAddress b = freePort("127.0.0.3");
        SpeakerConfig configA = SpeakerConfig.builder(AS, Ipv4Address.parse("10.255.0.2")).listen(a)
                .connectRetry(new ConnectRetry(Duration.ofMillis(50), Duration.ofMillis(200))).peer(PeerConfig.of(b, AS)).build();
        try (BgpSpeaker speakerA = BgpSpeaker.start(configA)) {
            long heapBefore = usedHeap();
            long start = System.nanoTime();
            speakerA.originateAll(routes(0, routes));
            waitFor(() -> speakerA.locRibSize() == routes);
            double originateSeconds = (System.nanoTime() - start) / 1e9;
            long heapLocRib = usedHeap();

            List<String> command = new ArrayList<>(List.of(Path.java(), "-Xmx" + options.getOrDefault("--child-heap", "2g"),
                    "-cp", System.getProperty("java.class.path"), BgpPropagationBenchmark.class.getName(),
                    "--role", "b", "--routes", Integer.toString(routes), "--a", a.getHostString() + ":" + a.getPort(),
                    "--b", b.getHostString() + ":" + b.getPort()));
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader fromB = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            PrintStream toB = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8);
            Map<String, String> transfer = parse(expect(fromB, "TRANSFER"));
            long heapWithAdjRibOut = usedHeap();

            toB.println("EXPECT " + (2 * routes));
            expect(fromB, "WAITING");
            long liveStart = System.nanoTime();
            speakerA.originateAll(routes(routes, routes));
            expect(fromB, "HAVE");
            double liveSeconds = (System.nanoTime() - liveStart) / 1e9;
            toB.println("QUIT");
            child.waitFor(30, TimeUnit.SECONDS);

            double transferSeconds = Long.parseLong(transfer.get("nanos")) / 1e9;
            double per = 100_000.0 / routes;
            System.out.printf("""
                    BGP propagation, vnet speaker A -> vnet speaker B (iBGP, loopback TCP, separate JVMs)
                    routes                      %,d (%,d networks x %d hosts x %d VMs; %,d attribute sets)
                    A originate into Loc-RIB    %.3f s
                    initial table transfer      %.3f s  (%,.0f routes/s)  [B start -> B Loc-RIB complete]
                    live propagation            %.3f s  (%,.0f routes/s)  [A originates %,d more -> B has %,d]
                    UPDATEs B received          %s
                    heap at A per 100,000       %.1f MB Loc-RIB; %.1f MB with B's Adj-RIB-Out
                    heap at B per 100,000       %.1f MB (Adj-RIB-In + Loc-RIB)
                    """, routes, routes / ROUTES_PER_NETWORK, HOSTS_PER_NETWORK, ROUTES_PER_NETWORK / HOSTS_PER_NETWORK,
                    routes / (ROUTES_PER_NETWORK / HOSTS_PER_NETWORK), originateSeconds,
                    transferSeconds, routes / transferSeconds, liveSeconds, routes / liveSeconds, routes, 2 * routes,
                    transfer.get("updates"),
                    mb(heapLocRib - heapBefore) * per, mb(heapWithAdjRibOut - heapBefore) * per,
                    mb(Long.parseLong(transfer.get("heapAfter")) - Long.parseLong(transfer.get("heapBefore"))) * per);
        }
        watchdog.interrupt();
    }

    /** Speaker B, in the child JVM: starts, times the table transfer, then waits for counts on request. */
    private static void runB(Map<String, String> options, int routes) throws Exception {
        InetSocketAddress a = parseAddress(options.get("--a"));
        InetSocketAddress b = parseAddress(options.get("--b"));
        long heapBefore = usedHeap();
        long start = System.nanoTime();
        BgpSpeaker speakerB = BgpSpeaker.start(SpeakerConfig.builder(AS, Ipv4Address.parse("10.255.0.3")).listen(b)
                .peer(PeerConfig.of(a, AS)).build());
        waitFor(() -> speakerB.locRibSize() == routes);
        long nanos = System.nanoTime() - start;
        long heapAfter = usedHeap();
        long updates = speakerB.peers().getFirst().updatesReceived();
        System.out.println("TRANSFER nanos=" + nanos + " heapBefore=" + heapBefore + " heapAfter=" + heapAfter + " updates=" + updates);
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = commands.readLine()) != null && !line.equals("QUIT"); ) {
            if (line.startsWith("EXPECT ")) {
                int expected = Integer.parseInt(line.substring(7));
                System.out.println("WAITING");
                waitFor(() -> speakerB.locRibSize() >= expected);
                System.out.println("HAVE " + speakerB.locRibSize());
            }
        }
        speakerB.close();
    }

    /** Routes {@code first} .. {@code first + count - 1} of the deployment described in the class comment. */
    static List<VpnRoute> routes(int first, int count) {
        List<VpnRoute> routes = new ArrayList<>(count);
        int vmsPerHost = ROUTES_PER_NETWORK / HOSTS_PER_NETWORK;
        for (int i = first; i < first + count; i++) {
            int network = 1 + i / ROUTES_PER_NETWORK;
            int vm = i % ROUTES_PER_NETWORK;
            int host = (network * 7 + vm / vmsPerHost) % 5000;
            int underlay = Ipv4Address.parse("172.16.0.0") + host;
            int subnet = Ipv4Address.parse("10.0.0.0") + (network << 8);
            routes.add(new VpnRoute(RouteDistinguisher.forHost(underlay, network & 0xFFFF), new Ipv4Prefix(subnet + 2 + vm, 32),
                    network, underlay, List.of(ExtendedCommunity.routeTargetForNetwork((int) AS, network),
                    ExtendedCommunity.encapsulation(TunnelType.VNP))));
        }
        return routes;
    }

    private static String expect(BufferedReader in, String prefix) throws IOException {
        for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new IOException("speaker B ended before saying " + prefix);
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> values = new HashMap<>();
        for (String part : line.split(" ")) {
            int equals = part.indexOf('=');
            if (equals > 0) {
                values.put(part.substring(0, equals), part.substring(equals + 1));
            }
        }
        return values;
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        while (!condition.getAsBoolean()) {
            Thread.sleep(1);
        }
    }

    private static long usedHeap() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static double mb(long bytes) {
        return bytes / 1e6;
    }

    private static InetSocketAddress freePort(String host) throws IOException {
        InetAddress address = InetAddress.getByName(host);
        try (ServerSocket socket = new ServerSocket(0, 1, address)) {
            return new InetSocketAddress(address, socket.getLocalPort());
        }
    }

    private static InetSocketAddress parseAddress(String text) {
        int colon = text.lastIndexOf(':');
        return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }

    private static final class Path {
        static String java() {
            return java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }
    }
}
