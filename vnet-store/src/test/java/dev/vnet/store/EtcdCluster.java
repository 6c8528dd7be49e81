package dev.vnet.store;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.maintenance.StatusResponse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real etcd cluster for tests: {@code n} members of the Debian package's {@code etcd} on 127.0.0.1,
 * with free ports picked per cluster and a temporary data directory.
 *
 * <p>No process outlives it: each member runs under {@code timeout -s KILL} (so it dies after
 * {@link #MAX_LIFETIME} even if this JVM is killed), a shutdown hook kills the members and deletes the
 * data directory if the JVM exits without {@link #close()}, and {@link #close()} SIGKILLs every member,
 * waits for it, and deletes the data directory. Use it with try-with-resources or from
 * {@code @AfterAll}.
 */
public final class EtcdCluster implements AutoCloseable {
    static final Duration MAX_LIFETIME = Duration.ofMinutes(10);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** One member: its name, ports, and the {@code timeout} process it runs under. */
    public final class Member {
        final String name;
        final int clientPort;
        final int peerPort;
        private Process timeout;

        Member(String name, int clientPort, int peerPort) {
            this.name = name;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
        }

        String clientUrl() {
            return "http://127.0.0.1:" + clientPort;
        }

        String peerUrl() {
            return "http://127.0.0.1:" + peerPort;
        }

        boolean alive() {
            return timeout != null && timeout.isAlive();
        }

        Path log() {
            return directory.resolve(name + ".log");
        }

        /** The etcd process itself (the child of {@code timeout}). */
        Optional<ProcessHandle> etcd() {
            return timeout == null ? Optional.empty() : timeout.children().findFirst();
        }

        @Override
        public String toString() {
            return name + "@" + clientUrl();
        }
    }

    private final Path directory;
    private final List<Member> members = new ArrayList<>();
    private final Thread shutdownHook;

    private EtcdCluster(Path directory) {
        this.directory = directory;
        this.shutdownHook = new Thread(() -> {
            killAll();
            deleteDirectory();
        }, "etcd cluster cleanup");
    }

    /** Starts {@code size} members and waits until each reports itself healthy (a leader is elected). */
    public static EtcdCluster start(int size) throws IOException, InterruptedException {
        String etcd = findEtcd();
        EtcdCluster cluster = new EtcdCluster(Files.createTempDirectory("vnet-etcd-"));
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            cluster.launch(etcd, size);
            cluster.awaitHealthy();
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    private static String findEtcd() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "etcd");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException("etcd is not installed (on a Debian machine, as root: "
                + "apt-get install etcd-server etcd-client; ./vnet test and .ci/run install it)");
    }

    private void launch(String etcd, int size) throws IOException {
        List<Integer> ports = freePorts(2 * size);
        List<String> initial = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            Member member = new Member("e" + (i + 1), ports.get(2 * i), ports.get(2 * i + 1));
            members.add(member);
            initial.add(member.name + "=" + member.peerUrl());
        }
        String token = "vnet-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        for (Member member : members) {
            List<String> command = List.of(
                    "timeout", "-s", "KILL", Long.toString(MAX_LIFETIME.toSeconds()), etcd,
                    "--name", member.name,
                    "--data-dir", directory.resolve(member.name).toString(),
                    "--listen-client-urls", member.clientUrl(),
                    "--advertise-client-urls", member.clientUrl(),
                    "--listen-peer-urls", member.peerUrl(),
                    "--initial-advertise-peer-urls", member.peerUrl(),
                    "--initial-cluster", String.join(",", initial),
                    "--initial-cluster-token", token,
                    "--initial-cluster-state", "new",
                    "--logger", "zap", "--log-outputs", "stderr");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(member.log().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            builder.environment().keySet().removeIf(name -> name.startsWith("ETCD"));
            member.timeout = builder.start();
        }
    }

    private static List<Integer> freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports.add(socket.getLocalPort());
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    private void awaitHealthy() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            for (Member member : members) {
                while (!healthy(http, member)) {
                    if (!member.alive()) {
                        throw new IllegalStateException("etcd member " + member + " exited with "
                                + member.timeout.exitValue() + ":\n" + tail(member));
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("etcd member " + member + " not healthy within "
                                + START_TIMEOUT.toSeconds() + " s:\n" + tail(member));
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    private static boolean healthy(HttpClient http, Member member) throws InterruptedException {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(member.clientUrl() + "/health")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().replace(" ", "").contains("\"health\":\"true\"");
        } catch (IOException e) {
            return false;
        }
    }

    /** The last lines of a member's log, for failure messages. */
    String tail(Member member) {
        try {
            List<String> lines = Files.readAllLines(member.log(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    List<Member> members() {
        return List.copyOf(members);
    }

    /** Client URLs of every member, the killed ones included (as a client configured once would have). */
    public List<String> clientUrls() {
        return members.stream().map(Member::clientUrl).toList();
    }

    /** The current leader, as the live members report it (waits up to 20 s for one to be elected). */
    public Member leader() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<Member> live = members.stream().filter(Member::alive).toList();
        try (Client client = Client.builder().endpoints(live.stream().map(Member::clientUrl).toArray(String[]::new)).build()) {
            while (true) {
                for (Member member : live) {
                    try {
                        StatusResponse status = client.getMaintenanceClient().statusMember(member.clientUrl())
                                .get(2, TimeUnit.SECONDS);
                        if (status.getLeader() != 0 && status.getLeader() == status.getHeader().getMemberId()) {
                            return member;
                        }
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        // not answering (yet): ask the next one
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no etcd member reports itself leader");
                }
                Thread.sleep(100);
            }
        }
    }

    /** Crashes a member: SIGKILL to the etcd process (not SIGTERM, which hands leadership over first). */
    public void kill(Member member) throws InterruptedException {
        member.etcd().ifPresent(ProcessHandle::destroyForcibly);
        if (!member.timeout.waitFor(10, TimeUnit.SECONDS)) {
            member.timeout.destroyForcibly();
            member.timeout.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void killAll() {
        // SIGKILL each etcd and let its `timeout` reap it and exit; kill a `timeout` that does not.
        for (Member member : members) {
            if (member.timeout != null) {
                member.etcd().ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        boolean interrupted = false;
        for (Member member : members) {
            if (member.timeout == null) {
                continue;
            }
            try {
                if (!member.timeout.waitFor(5, TimeUnit.SECONDS)) {
                    member.timeout.destroyForcibly();
                    member.timeout.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                member.timeout.destroyForcibly();
                interrupted = true;
            }
        }
        // An etcd that `timeout` forked just as it was killed would be orphaned: find it by our data directory.
        String mark = directory.toString() + "/";
        ProcessHandle.allProcesses()
                .filter(process -> process.pid() != ProcessHandle.current().pid())
                .filter(process -> process.info().arguments()
                        .map(args -> String.join(" ", args).contains(mark)).orElse(false))
                .forEach(ProcessHandle::destroyForcibly);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kills every member and deletes the data directory. */
    @Override
    public void close() {
        killAll();
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
}
