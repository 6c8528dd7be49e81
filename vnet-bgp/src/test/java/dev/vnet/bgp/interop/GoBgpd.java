package dev.vnet.bgp.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real GoBGP speaker for interop tests: one {@code gobgpd} (Debian package {@code gobgpd}, 3.10) on a
 * loopback address, configured from a {@link Config}, driven and inspected through the {@code gobgp}
 * CLI on a private API port.
 *
 * <p>Each instance listens for BGP on {@code Config.localAddress():Config.listenPort()} (a free port by
 * default, so no root is needed) and connects to each neighbor from that address to the neighbor's
 * port. Use a distinct 127.0.0.x per instance and per peer: GoBGP tells neighbors apart by address.
 * GoBGP waits 5 to 10 s (a random delay, whatever the connect-retry timer says) before its first
 * outgoing connection, so a session between two gobgpd comes up in up to ~10 s; a peer that
 * connects to gobgpd itself is accepted at once.
 *
 * <p>No process outlives it: gobgpd runs under {@code timeout -s KILL} (so it dies after
 * {@link #MAX_LIFETIME} even if this JVM is killed), a shutdown hook kills it and deletes the
 * temporary directory if the JVM exits without {@link #close()}, and {@link #close()} SIGKILLs it,
 * waits for it, and deletes the directory. Every {@code gobgp} CLI call runs under {@code timeout} too.
 * Use it with try-with-resources or from {@code @AfterAll}.
 */
public final class GoBgpd implements AutoCloseable {
    static final Duration MAX_LIFETIME = Duration.ofMinutes(10);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Timers every neighbor gets, short for tests (seconds). */
    public static final int CONNECT_RETRY = 2;
    public static final int HOLD_TIME = 9;
    public static final int KEEPALIVE = 3;

    /** The address family of VPNv4 (AFI 1, SAFI 128) in GoBGP's configuration. */
    public static final String VPNV4 = "l3vpn-ipv4-unicast";

    /**
     * Encapsulation names the {@code gobgp} CLI accepts after {@code encap}, by IANA BGP tunnel type (the
     * Encapsulation extended community, RFC 9012 section 4.1); {@link Vpnv4Route#encapsulations()}
     * reports them under the same names.
     */
    static final Map<Integer, String> TUNNEL_TYPES = Map.of(
            1, "l2tpv3", 2, "gre", 7, "ip-in-ip", 8, "vxlan", 9, "nvgre", 10, "mpls",
            11, "mpls-in-gre", 12, "vxlan-gre", 13, "mpls-in-udp", 19, "geneve");

    /** GoBGP's session states, by the number {@code gobgp neighbor ADDRESS -j} reports. */
    private static final List<String> SESSION_STATES = List.of("UNKNOWN", "BGP_FSM_IDLE", "BGP_FSM_CONNECT",
            "BGP_FSM_ACTIVE", "BGP_FSM_OPENSENT", "BGP_FSM_OPENCONFIRM", "BGP_FSM_ESTABLISHED");
    public static final String ESTABLISHED = "BGP_FSM_ESTABLISHED";

    private static final Pattern NAME = Pattern.compile("[a-z0-9-]+");
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    /**
     * One BGP neighbor of the instance.
     *
     * @param address the peer's address (127.0.0.x)
     * @param port the peer's BGP port, which gobgpd connects to ({@code remote-port})
     * @param peerAs the peer's AS (the local AS for iBGP)
     * @param families GoBGP's names of the families to negotiate, e.g. {@value GoBgpd#VPNV4}
     * @param routeReflectorClient whether gobgpd reflects routes to this peer as to a route-reflector
     *         client (cluster id: the router id)
     * @param passive whether gobgpd only waits for the peer to connect, never connecting itself
     */
    public record Neighbor(String address, int port, long peerAs, List<String> families,
                           boolean routeReflectorClient, boolean passive) {
        public Neighbor {
            requireLoopback(address, "neighbor address");
            requirePort(port);
            requireAs(peerAs);
            families = List.copyOf(families);
            if (families.isEmpty()) {
                throw new IllegalArgumentException("a neighbor needs at least one family");
            }
            families.forEach(family -> requireName(family, "family"));
        }

        /** A VPNv4 neighbor, not a route-reflector client, connected to actively. */
        public static Neighbor of(String address, int port, long peerAs) {
            return new Neighbor(address, port, peerAs, List.of(VPNV4), false, false);
        }

        public Neighbor withFamilies(String... families) {
            return new Neighbor(address, port, peerAs, List.of(families), routeReflectorClient, passive);
        }

        public Neighbor asRouteReflectorClient() {
            return new Neighbor(address, port, peerAs, families, true, passive);
        }

        public Neighbor asPassive() {
            return new Neighbor(address, port, peerAs, families, routeReflectorClient, true);
        }
    }

    /**
     * What to start.
     *
     * @param localAddress the address gobgpd listens on and connects from (127.0.0.x)
     * @param localAs the local AS
     * @param routerId the BGP identifier (an IPv4 address; any, e.g. 10.255.0.1)
     * @param listenPort the BGP port (179 needs root)
     * @param apiPort the gRPC API port on 127.0.0.1 that the {@code gobgp} CLI talks to
     * @param neighbors the configured neighbors
     */
    public record Config(String localAddress, long localAs, String routerId, int listenPort, int apiPort,
                         List<Neighbor> neighbors) {
        public Config {
            requireLoopback(localAddress, "local address");
            requireAs(localAs);
            requireIpv4(routerId, "router id");
            requirePort(listenPort);
            requirePort(apiPort);
            neighbors = List.copyOf(neighbors);
        }

        /** No neighbors yet; free BGP and API ports are picked now, so a peer's config can name them. */
        public static Config of(String localAddress, long localAs, String routerId) {
            List<Integer> ports = freePorts(2);
            return new Config(localAddress, localAs, routerId, ports.get(0), ports.get(1), List.of());
        }

        public Config withNeighbor(Neighbor neighbor) {
            List<Neighbor> more = new ArrayList<>(neighbors);
            more.add(neighbor);
            return new Config(localAddress, localAs, routerId, listenPort, apiPort, more);
        }

        public Config withListenPort(int port) {
            return new Config(localAddress, localAs, routerId, port, apiPort, neighbors);
        }

        public Config withApiPort(int port) {
            return new Config(localAddress, localAs, routerId, listenPort, port, neighbors);
        }

        /** The {@link Neighbor} to configure on a peer for a session to this instance. */
        public Neighbor asNeighbor() {
            return Neighbor.of(localAddress, listenPort, localAs);
        }

        /** gobgpd's TOML configuration. */
        String toml() {
            StringBuilder toml = new StringBuilder()
                    .append("[global.config]\n")
                    .append("  as = ").append(localAs).append('\n')
                    .append("  router-id = \"").append(routerId).append("\"\n")
                    .append("  port = ").append(listenPort).append('\n')
                    .append("  local-address-list = [\"").append(localAddress).append("\"]\n");
            for (Neighbor neighbor : neighbors) {
                toml.append("\n[[neighbors]]\n")
                        .append("  [neighbors.config]\n")
                        .append("    neighbor-address = \"").append(neighbor.address()).append("\"\n")
                        .append("    peer-as = ").append(neighbor.peerAs()).append('\n')
                        .append("  [neighbors.timers.config]\n")
                        .append("    connect-retry = ").append(CONNECT_RETRY).append('\n')
                        .append("    hold-time = ").append(HOLD_TIME).append('\n')
                        .append("    keepalive-interval = ").append(KEEPALIVE).append('\n')
                        .append("  [neighbors.transport.config]\n")
                        .append("    local-address = \"").append(localAddress).append("\"\n")
                        .append("    remote-port = ").append(neighbor.port()).append('\n');
                if (neighbor.passive()) {
                    toml.append("    passive-mode = true\n");
                }
                if (neighbor.routeReflectorClient()) {
                    toml.append("  [neighbors.route-reflector.config]\n")
                            .append("    route-reflector-client = true\n")
                            .append("    route-reflector-cluster-id = \"").append(routerId).append("\"\n");
                }
                for (String family : neighbor.families()) {
                    toml.append("  [[neighbors.afi-safis]]\n")
                            .append("    [neighbors.afi-safis.config]\n")
                            .append("      afi-safi-name = \"").append(family).append("\"\n");
                }
            }
            return toml.toString();
        }
    }

    /**
     * One VPNv4 path in gobgpd's global RIB.
     *
     * @param rd route distinguisher, e.g. {@code 65000:100}, {@code 10.0.0.1:5} or, for a 4-octet AS,
     *         {@code 4200000000:5} (as-plain)
     * @param prefix the IPv4 prefix, e.g. {@code 10.10.0.0/24}
     * @param label the (first) MPLS label of the NLRI, or the VNI when the route says VXLAN
     * @param nextHop the BGP next hop
     * @param routeTargets route-target extended communities in the form of {@code rd}, in the order sent
     * @param encapsulations tunnel types of Encapsulation extended communities, in the CLI's names
     *         ("vxlan", "gre", "mpls-in-gre", ...; {@code tunnel-type-N} for others); empty if none
     * @param otherExtendedCommunities any other extended community, as GoBGP's JSON
     * @param asPath the AS numbers of the AS_PATH, segments flattened
     * @param localPref LOCAL_PREF, or {@code null} when absent
     * @param best whether gobgpd selected this path as best
     * @param neighbor the address of the peer it was learned from, or {@code null} for a local route
     */
    public record Vpnv4Route(String rd, String prefix, int label, String nextHop, List<String> routeTargets,
                             List<String> encapsulations, List<String> otherExtendedCommunities,
                             List<Long> asPath, Long localPref, boolean best, String neighbor) {
        public Vpnv4Route {
            routeTargets = List.copyOf(routeTargets);
            encapsulations = List.copyOf(encapsulations);
            otherExtendedCommunities = List.copyOf(otherExtendedCommunities);
            asPath = List.copyOf(asPath);
        }

        /** The first encapsulation, or {@code null} without one. */
        public String encapsulation() {
            return encapsulations.isEmpty() ? null : encapsulations.getFirst();
        }
    }

    private final Config config;
    private final Path directory;
    private final String gobgp;
    private final Thread shutdownHook;
    private Process timeout;

    private GoBgpd(Config config, Path directory, String gobgp) {
        this.config = config;
        this.directory = directory;
        this.gobgp = gobgp;
        this.shutdownHook = new Thread(() -> {
            kill();
            deleteDirectory();
        }, "gobgpd cleanup");
    }

    /** Starts gobgpd with {@code config} and waits until its API answers (not for any session). */
    public static GoBgpd start(Config config) throws IOException, InterruptedException {
        String gobgpd = findBinary("gobgpd");
        String gobgp = findBinary("gobgp");
        GoBgpd instance = new GoBgpd(config, Files.createTempDirectory("vnet-gobgpd-"), gobgp);
        Runtime.getRuntime().addShutdownHook(instance.shutdownHook);
        try {
            instance.launch(gobgpd);
            instance.awaitApi();
            return instance;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            instance.close();
            throw e;
        }
    }

    private static String findBinary(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException(name + " is not installed (on a Debian machine, as root: "
                + "apt-get install gobgpd; ./vnet test and .ci/run install it)");
    }

    private void launch(String gobgpd) throws IOException {
        Path toml = directory.resolve("gobgpd.toml");
        Files.writeString(toml, config.toml(), StandardCharsets.UTF_8);
        List<String> command = List.of(
                "timeout", "-s", "KILL", Long.toString(MAX_LIFETIME.toSeconds()), gobgpd,
                "-f", toml.toString(), "-p", "-l", "info",
                "--api-hosts", "127.0.0.1:" + config.apiPort(), "--pprof-disable");
        timeout = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
    }

    private void awaitApi() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!alive()) {
                throw new IllegalStateException("gobgpd " + this + " exited with " + timeout.exitValue() + ":\n" + tail());
            }
            try {
                JsonNode global = JSON.readTree(cli("global", "-j"));
                if (global.path("asn").asLong() == config.localAs()) {
                    return;
                }
            } catch (IOException | IllegalStateException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gobgpd " + this + " API not up within "
                        + START_TIMEOUT.toSeconds() + " s:\n" + tail());
            }
            Thread.sleep(100);
        }
    }

    public Config config() {
        return config;
    }

    /** gobgpd's log (plain text, level info). */
    public Path log() {
        return directory.resolve("gobgpd.log");
    }

    /** The last lines of the log, for failure messages. */
    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public boolean alive() {
        return timeout != null && timeout.isAlive();
    }

    /** The gobgpd process itself (the child of {@code timeout}). */
    public Optional<ProcessHandle> process() {
        return timeout == null ? Optional.empty() : timeout.children().findFirst();
    }

    /**
     * Originates a VPNv4 route from gobgpd's global RIB, as {@code gobgp global rib -a vpnv4 add PREFIX
     * label LABEL rd RD [rt RT...] [encap TYPE] nexthop NEXT_HOP}.
     *
     * @param rd e.g. {@code 65000:100}, {@code 10.0.0.1:5}, {@code 4200000000:5}
     * @param routeTargets in the same forms; may be empty
     * @param encapsulation a tunnel type name from {@link #TUNNEL_TYPES} ("vxlan", "gre", ...), or
     *         {@code null} for no Encapsulation extended community
     */
    public void addVpnv4(String rd, String prefix, int label, String nextHop, List<String> routeTargets,
                         String encapsulation) throws InterruptedException {
        requireIpv4(nextHop, "next hop");
        List<String> args = new ArrayList<>(List.of("global", "rib", "-a", "vpnv4", "add",
                requirePrefix(prefix), "label", Integer.toString(requireLabel(label)), "rd", asdot(rd)));
        if (!routeTargets.isEmpty()) {
            args.add("rt");
            routeTargets.forEach(rt -> args.add(asdot(rt)));
        }
        if (encapsulation != null) {
            if (!TUNNEL_TYPES.containsValue(encapsulation)) {
                throw new IllegalArgumentException("unknown encapsulation " + encapsulation + "; one of "
                        + TUNNEL_TYPES.values());
            }
            args.addAll(List.of("encap", encapsulation));
        }
        args.addAll(List.of("nexthop", nextHop));
        cli(args.toArray(String[]::new));
    }

    /**
     * Withdraws a VPNv4 route originated with {@link #addVpnv4}: {@code gobgp global rib -a vpnv4 del
     * PREFIX label LABEL rd RD}. GoBGP finds the route by RD and prefix; the CLI wants a label too.
     */
    public void deleteVpnv4(String rd, String prefix, int label) throws InterruptedException {
        cli("global", "rib", "-a", "vpnv4", "del", requirePrefix(prefix),
                "label", Integer.toString(requireLabel(label)), "rd", asdot(rd));
    }

    /** Every VPNv4 path in the global RIB (best and not), from {@code gobgp global rib -a vpnv4 -j}. */
    public List<Vpnv4Route> rib() throws InterruptedException {
        return parseRib(cli("global", "rib", "-a", "vpnv4", "-j"));
    }

    /** How many VPNv4 paths the global RIB holds, cheaply ({@code gobgp global rib -a vpnv4 summary}). */
    public long vpnv4PathCount() throws InterruptedException {
        String summary = cli("global", "rib", "-a", "vpnv4", "summary");
        Matcher m = Pattern.compile("Path:\\s*(\\d+)").matcher(summary);
        if (!m.find()) {
            throw new IllegalStateException("unexpected rib summary from " + this + ": " + summary);
        }
        return Long.parseLong(m.group(1));
    }

    /** The session state with a neighbor: "BGP_FSM_ESTABLISHED", "BGP_FSM_ACTIVE", "BGP_FSM_IDLE", ... */
    public String neighborState(String address) throws InterruptedException {
        JsonNode state;
        try {
            state = JSON.readTree(cli("neighbor", address, "-j")).path("state").path("session_state");
        } catch (IOException e) {
            throw new IllegalStateException("unreadable neighbor state from " + this, e);
        }
        if (state.isTextual()) { // protojson spells the enum out
            String name = state.asText();
            return name.startsWith("BGP_FSM_") || name.equals("UNKNOWN") ? name : "BGP_FSM_" + name;
        }
        int number = state.asInt(0); // absent: the enum's zero, UNKNOWN
        return number < SESSION_STATES.size() ? SESSION_STATES.get(number) : "UNKNOWN(" + number + ")";
    }

    /** Waits until the session with {@code address} is established; fails with the log otherwise. */
    public void awaitEstablished(String address, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String state = null;
        while (true) {
            if (!alive()) {
                throw new IllegalStateException("gobgpd " + this + " exited:\n" + tail());
            }
            try {
                state = neighborState(address);
            } catch (IllegalStateException e) {
                state = e.getMessage();
            }
            if (ESTABLISHED.equals(state)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gobgpd " + this + ": session with " + address
                        + " not established within " + timeout.toMillis() + " ms (last state " + state + "):\n" + tail());
            }
            Thread.sleep(100);
        }
    }

    /** Runs {@code gobgp -u 127.0.0.1 -p API_PORT ARGS} and returns its standard output. */
    public String cli(String... args) throws InterruptedException {
        List<String> command = new ArrayList<>(List.of("timeout", "-s", "KILL", Long.toString(CLI_TIMEOUT.toSeconds()),
                gobgp, "-u", "127.0.0.1", "-p", Integer.toString(config.apiPort())));
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile(directory, "cli-", ".out");
            try {
                Process process = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
                if (!process.waitFor(CLI_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
                String output = Files.readString(out, StandardCharsets.UTF_8);
                int exit = process.isAlive() ? -1 : process.exitValue();
                if (exit != 0) {
                    throw new IllegalStateException("gobgp " + String.join(" ", args) + " on " + this
                            + " exited with " + exit + ": " + output.strip());
                }
                return output;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run gobgp", e);
        }
    }

    static List<Vpnv4Route> parseRib(String json) {
        JsonNode root;
        try {
            root = json.isBlank() ? null : JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalStateException("unreadable rib JSON: " + json, e);
        }
        List<Vpnv4Route> routes = new ArrayList<>();
        if (root == null || !root.isObject()) {
            return routes; // an empty RIB prints {} (or nothing)
        }
        for (JsonNode paths : (Iterable<JsonNode>) root::elements) {
            for (JsonNode path : paths) {
                routes.add(parsePath(path));
            }
        }
        return routes;
    }

    private static Vpnv4Route parsePath(JsonNode path) {
        JsonNode nlri = path.path("nlri");
        String nextHop = null;
        List<String> routeTargets = new ArrayList<>();
        List<String> encapsulations = new ArrayList<>();
        List<String> others = new ArrayList<>();
        List<Long> asPath = new ArrayList<>();
        Long localPref = null;
        for (JsonNode attr : path.path("attrs")) {
            switch (attr.path("type").asInt()) {
                case 2 -> { // AS_PATH: [{"segment_type":2,"num":1,"asns":[65001]}]
                    for (JsonNode segment : attr.path("as_paths")) {
                        segment.path("asns").forEach(asn -> asPath.add(asn.asLong()));
                    }
                }
                case 3 -> nextHop = nextHop == null ? attr.path("nexthop").asText(null) : nextHop;
                case 5 -> localPref = attr.path("value").asLong();
                case 14 -> nextHop = attr.path("nexthop").asText(null); // MP_REACH_NLRI
                case 16 -> { // EXTENDED_COMMUNITIES
                    for (JsonNode community : attr.path("value")) {
                        int type = community.path("type").asInt() & 0x3f; // without the non-transitive bit
                        int subtype = community.path("subtype").asInt();
                        if (type <= 2 && subtype == 2) {
                            routeTargets.add(asplain(community.path("value").asText()));
                        } else if (type == 3 && subtype == 12) {
                            int tunnel = community.path("tunnel_type").asInt();
                            encapsulations.add(TUNNEL_TYPES.getOrDefault(tunnel, "tunnel-type-" + tunnel));
                        } else {
                            others.add(community.toString());
                        }
                    }
                }
                default -> { }
            }
        }
        JsonNode labels = nlri.path("labels");
        return new Vpnv4Route(rd(nlri.path("rd")), nlri.path("prefix").asText(),
                labels.isEmpty() ? -1 : labels.get(0).asInt(), nextHop, routeTargets, encapsulations, others,
                asPath, localPref, path.path("best").asBoolean(), path.path("neighbor-ip").asText(null));
    }

    /** {"type":0,"admin":65000,"assigned":100}, {"type":1,"admin":"10.0.0.1",...}, {"type":2,"admin":4200000000,...} */
    private static String rd(JsonNode rd) {
        return rd.path("admin").asText() + ":" + rd.path("assigned").asText();
    }

    /**
     * The CLI of GoBGP 3.10 reads {@code 4200000000:5} (a 4-octet AS in plain notation) as 65535:5; it
     * reads the same AS in asdot ({@code 64086.59904:5}) right. IPv4-address forms pass through.
     */
    static String asdot(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException("not an RD or route target (ADMIN:ASSIGNED): " + value);
        }
        String admin = value.substring(0, colon);
        if (admin.matches("\\d+")) {
            long as = Long.parseLong(admin);
            if (as > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("AS out of range in " + value);
            }
            if (as > 0xFFFF) {
                return (as >>> 16) + "." + (as & 0xFFFF) + value.substring(colon);
            }
        }
        return value;
    }

    /** The reverse of {@link #asdot} for what gobgp prints ({@code 64086.59904:9} to {@code 4200000000:9}). */
    static String asplain(String value) {
        Matcher m = Pattern.compile("(\\d+)\\.(\\d+)(:\\d+)").matcher(value);
        if (m.matches()) {
            return ((Long.parseLong(m.group(1)) << 16) | Long.parseLong(m.group(2))) + m.group(3);
        }
        return value;
    }

    private static String requirePrefix(String prefix) {
        int slash = prefix.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not an IPv4 prefix: " + prefix);
        }
        requireIpv4(prefix.substring(0, slash), "prefix");
        int length = Integer.parseInt(prefix.substring(slash + 1));
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("not an IPv4 prefix: " + prefix);
        }
        return prefix;
    }

    private static int requireLabel(int label) {
        if (label < 0 || label > 0xFFFFF) {
            throw new IllegalArgumentException("an MPLS label has 20 bits: " + label);
        }
        return label;
    }

    private static void requireIpv4(String address, String what) {
        Matcher m = address == null ? null : IPV4.matcher(address);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException(what + " is not an IPv4 address: " + address);
        }
        for (int i = 1; i <= 4; i++) {
            if (Integer.parseInt(m.group(i)) > 255) {
                throw new IllegalArgumentException(what + " is not an IPv4 address: " + address);
            }
        }
    }

    private static void requireLoopback(String address, String what) {
        requireIpv4(address, what);
        if (!address.startsWith("127.")) {
            throw new IllegalArgumentException(what + " must be a loopback address (127.0.0.x): " + address);
        }
    }

    private static void requirePort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("not a port: " + port);
        }
    }

    private static void requireAs(long as) {
        if (as < 1 || as > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("not an AS number: " + as);
        }
    }

    private static void requireName(String name, String what) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a " + what + " name: " + name);
        }
    }

    /** Free TCP ports on the loopback interface (free when asked; bound by nobody here). */
    public static List<Integer> freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports.add(socket.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // nothing to do
                }
            }
        }
    }

    private void kill() {
        if (timeout != null) {
            // SIGKILL gobgpd and let its `timeout` reap it and exit; kill a `timeout` that does not.
            process().ifPresent(ProcessHandle::destroyForcibly);
            try {
                if (!timeout.waitFor(5, TimeUnit.SECONDS)) {
                    timeout.destroyForcibly();
                    timeout.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                timeout.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        // A gobgpd that `timeout` forked just as it was killed would be orphaned: find it by our directory.
        String mark = directory.toString() + "/";
        ProcessHandle.allProcesses()
                .filter(process -> process.pid() != ProcessHandle.current().pid())
                .filter(process -> process.info().arguments()
                        .map(args -> String.join(" ", args).contains(mark)).orElse(false))
                .forEach(ProcessHandle::destroyForcibly);
    }

    /** Kills gobgpd and deletes its directory. */
    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs anyway
        }
        deleteDirectory();
    }

    private void deleteDirectory() {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + directory, e);
        }
    }

    @Override
    public String toString() {
        return "gobgpd AS" + config.localAs() + "@" + config.localAddress() + ":" + config.listenPort()
                + " (api " + config.apiPort() + ")";
    }
}
