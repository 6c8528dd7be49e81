package dev.vnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.dataplane.sys.NetworkNamespace;
import dev.vnet.lab.Lab;
import dev.vnet.lab.Shell;
import dev.vnet.vsock.host.HostCounters;
import dev.vnet.vsock.host.HostDevice;
import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.mapper.VmPolicies;
import dev.vnet.vsock.mapper.VmPolicy;
import dev.vnet.vsock.transport.SessionAddress;
import dev.vnet.vsock.transport.SessionSocket;
import dev.vnet.vsock.transport.SessionSockets;
import dev.vnet.wire.vsock.VsockFrame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Socket offload end to end, as root with namespaces and real processes (issue 8): VMs are network
 * namespaces, vm1 and vm2 with no NIC at all (only {@code lo}), vm3 with a NIC toward the server; each
 * runs {@code vnet vsock guest}, and this JVM is their host with one {@link HostDevice} each, bound
 * inside the VM's namespace. The server namespace ({@code LabPeer serve}: HTTP 80, TCP echo 7000,
 * UDP echo 7001, firehose 7002) is reachable from the host's namespace over a veth.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabVsockIT {
    private static final String PREFIX = "vn-vsit-";
    private static final String VM1 = PREFIX + "vm1";
    private static final String VM2 = PREFIX + "vm2";
    private static final String VM3 = PREFIX + "vm3";
    private static final String SERVER = PREFIX + "srv";
    private static final String HOST_LINK = "vsit-h0";
    private static final String SERVER_ADDRESS = "10.254.1.2";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Process> processes = new ArrayList<>();
    private final HostCounters counters = new HostCounters();
    private SocketMapper mapper;
    private HostDevice vm3Device;
    private final List<HostDevice> devices = new ArrayList<>();
    private Path work;

    @BeforeAll
    void up() throws Exception {
        assumeTrue(Lab.isRoot(), "needs root for namespaces");
        down();
        work = Files.createTempDirectory("vsit");
        for (String namespace : List.of(VM1, VM2, VM3, SERVER)) {
            run("ip", "netns", "add", namespace);
            run("ip", "-n", namespace, "link", "set", "lo", "up");
        }
        run("ip", "link", "add", HOST_LINK, "type", "veth", "peer", "name", "eth0", "netns", SERVER);
        run("ip", "addr", "add", "10.254.1.1/24", "dev", HOST_LINK);
        run("ip", "link", "set", HOST_LINK, "up");
        run("ip", "-n", SERVER, "addr", "add", SERVER_ADDRESS + "/24", "dev", "eth0");
        run("ip", "-n", SERVER, "link", "set", "eth0", "up");
        run("ip", "-n", SERVER, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", VM3);
        run("ip", "-n", SERVER, "addr", "add", "10.254.2.1/24", "dev", "eth1");
        run("ip", "-n", SERVER, "link", "set", "eth1", "up");
        run("ip", "-n", VM3, "addr", "add", "10.254.2.2/24", "dev", "eth0");
        run("ip", "-n", VM3, "link", "set", "eth0", "up");
        run("ip", "-n", VM3, "route", "add", SERVER_ADDRESS + "/32", "via", "10.254.2.1");
        // vm1 resolves through its coprocessor's DNS front only (ip netns exec bind-mounts these).
        Path etc = Path.of("/etc/netns", VM1);
        Files.createDirectories(etc);
        Files.writeString(etc.resolve("resolv.conf"), "nameserver 127.0.0.1\n");
        Files.writeString(etc.resolve("hosts"), "# names resolve through the socket offload\n");

        mapper = new SocketMapper(new VmPolicies(List.of(
                VmPolicy.parse("""
                        {"vm": "vm1", "default": "deny",
                         "acl": [{"deny": "tcp://10\\\\.254\\\\.1\\\\.2:8080"},
                                 {"allow": "tcp://10\\\\.254\\\\.1\\\\.2:(80|7000|7002)"},
                                 {"allow": "udp://10\\\\.254\\\\.1\\\\.2:7001"},
                                 {"allow": "tcp://0\\\\.0\\\\.0\\\\.0:\\\\d+"},
                                 {"allow": "tcp://old\\\\.example:80"},
                                 {"deny": "http://10\\\\.254\\\\.1\\\\.2/private.*"},
                                 {"allow": "http://(10\\\\.254\\\\.1\\\\.2|old\\\\.example)/.*"},
                                 {"deny": "dns://forbidden\\\\.example"},
                                 {"allow": "dns://.*"}],
                         "rewrite": [{"match": "tcp://old\\\\.example:80", "to": "tcp://10.254.1.2:80"},
                                     {"match": "http://old\\\\.example/(.*)", "to": "http://10.254.1.2/$1"}]}
                        """, "vm1.json"),
                VmPolicy.parse("""
                        {"vm": "vm2", "default": "deny", "acl": []}
                        """, "vm2.json"),
                VmPolicy.parse("""
                        {"vm": "vm3", "default": "deny",
                         "acl": [{"allow": "tcp://10\\\\.254\\\\.1\\\\.2:80"}, {"allow": "http://10\\\\.254\\\\.1\\\\.2/.*"}]}
                        """, "vm3.json"))));
        devices.add(HostDevice.inNamespace("vm1", VM1, mapper, counters));
        devices.add(HostDevice.inNamespace("vm2", VM2, mapper, counters));
        vm3Device = HostDevice.inNamespace("vm3", VM3, mapper, counters);
        devices.add(vm3Device);

        processes.add(start(SERVER, peer("serve", "srv", work.resolve("srv.down").toString())));
        for (String vm : List.of("vm1", "vm2", "vm3")) {
            List<String> guest = new ArrayList<>(Launchers.sameJvm().vnetCommand());
            guest.addAll(List.of("vsock", "guest", "--name", vm, "--status-file", work.resolve(vm + ".json").toString()));
            processes.add(startLogged(PREFIX + vm, work.resolve(vm + ".log"), guest.toArray(String[]::new)));
        }
        for (String vm : List.of("vm1", "vm2", "vm3")) {
            awaitGuestSession(vm);
        }
        awaitListening(SERVER, 80);
    }

    @AfterAll
    void down() throws Exception {
        processes.forEach(Process::destroyForcibly);
        devices.forEach(HostDevice::close);
        for (String namespace : List.of(VM1, VM2, VM3, SERVER)) {
            Shell.run("sh", "-c", "ip netns pids " + namespace + " 2>/dev/null | xargs -r kill -9");
            Shell.run("ip", "netns", "del", namespace);
        }
        Shell.run("ip", "link", "del", HOST_LINK);
        Shell.run("rm", "-rf", "/etc/netns/" + VM1);
        Shell.run("rmdir", "/etc/netns"); // only when empty: it may hold other namespaces' files
        if (work != null) {
            Shell.run("rm", "-rf", work.toString());
        }
        assertThat(Shell.run("ip", "netns", "list").output()).doesNotContain(PREFIX);
    }

    @Test
    @Order(1)
    void aVmWithNoNicFetchesAPageWithCurlThroughTheSocks5FrontAndNamesGoToTheHost() {
        assertThat(Shell.run("ip", "-n", VM1, "-o", "link", "show").output().strip().lines()).hasSize(1).allMatch(l -> l.contains(" lo:"));
        long connects = counters.snapshot().get("connects");
        assertThat(curl(VM1, "http://" + SERVER_ADDRESS + "/")).isEqualTo("srv");
        assertThat(counters.snapshot().get("connects")).isEqualTo(connects + 1);
        // A name the guest cannot resolve (it has no NIC, no DNS) goes to the host in the SOCKS request,
        // where the VM's rewrite sends it to the server.
        assertThat(curl(VM1, "http://old.example/")).isEqualTo("srv");
        assertThat(mapper.counters().snapshot().get("rewritten")).isPositive();
    }

    @Test
    @Order(2)
    void port80GoesThroughTheHostsHttpProxySoRulesSeeTheHostAndPath() {
        long requests = counters.snapshot().get("http.requests");
        long denied = counters.snapshot().get("http.denied");
        // The same server, the same port: the access list tells the paths apart.
        Shell.Result result = timed(20, "ip", "netns", "exec", VM1, "curl", "-s", "--max-time", "10", "-w", " %{http_code}",
                "--socks5-hostname", "127.0.0.1:1080", "http://" + SERVER_ADDRESS + "/private/keys");
        assertThat(result.output().strip()).startsWith("403 Forbidden").endsWith(" 403");
        assertThat(curl(VM1, "http://" + SERVER_ADDRESS + "/public")).isEqualTo("srv");
        assertThat(counters.snapshot().get("http.requests")).isEqualTo(requests + 2);
        assertThat(counters.snapshot().get("http.denied")).isEqualTo(denied + 1);
    }

    @Test
    @Order(3)
    void dnsNamesResolveThroughTheOffloadSubjectToTheAccessList() {
        long resolves = counters.snapshot().get("resolves");
        // gethostbyname, as most programs look names up (getaddrinfo with AI_ADDRCONFIG answers nothing
        // at all in a VM without an IPv4 address outside loopback, before asking any server).
        Shell.Result localhost = timed(15, "ip", "netns", "exec", VM1, "getent", "hosts", "localhost");
        assertThat(localhost.ok()).as(localhost.output()).isTrue();
        assertThat(localhost.output()).contains("127.0.0.1");
        assertThat(counters.snapshot().get("resolves")).isGreaterThan(resolves);
        long denied = mapper.counters().snapshot().getOrDefault("denied", 0L);
        Shell.Result forbidden = timed(15, "ip", "netns", "exec", VM1, "getent", "hosts", "forbidden.example");
        assertThat(forbidden.ok()).as("a name the access list denies does not resolve").isFalse();
        assertThat(mapper.counters().snapshot().get("denied")).as("denied by the host, not merely unknown").isGreaterThan(denied);
    }

    @Test
    @Order(3)
    void aListeningSocketThroughSocks5BindAcceptsAConnectionFromOutside() throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", VM1));
        command.addAll(List.of(peer("socks-bind", "1080", "10.254.1.2")));
        Process binder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(binder);
        BufferedReader out = new BufferedReader(new InputStreamReader(binder.getInputStream(), StandardCharsets.UTF_8));
        String bound = out.readLine();
        assertThat(bound).startsWith("bound 0.0.0.0:");
        String port = bound.substring(bound.lastIndexOf(':') + 1);
        // The server namespace reaches the host at 10.254.1.1, where the VM's listening socket lives.
        assertThat(exec(SERVER, peer("tcp-ask", "10.254.1.1", port))).isEqualTo("hello from the guest");
        assertThat(out.readLine()).startsWith("peer 10.254.1.2:");
        assertThat(binder.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(counters.snapshot().get("accepts")).isEqualTo(1);
    }

    @Test
    @Order(4)
    void udpRoundTripsThroughSocks5UdpAssociate() {
        String answer = exec(VM1, peer("socks-udp-ask", "1080", SERVER_ADDRESS, Integer.toString(LabPeer.UDP_PORT)));
        assertThat(answer).startsWith("srv 10.254.1.1:").endsWith(" question"); // sent by the host's socket
        assertThat(counters.snapshot().get("datagrams_in")).isPositive();
    }

    @Test
    @Order(5)
    void aDeniedUriGetsASocksErrorAndNoConnectionIsMade() {
        long connects = counters.snapshot().get("connects") + counters.snapshot().get("connect_failures");
        long denied = mapper.counters().snapshot().getOrDefault("denied", 0L);
        Shell.Result result = timed(20, "ip", "netns", "exec", VM1, "curl", "-s", "--max-time", "10",
                "--socks5-hostname", "127.0.0.1:1080", "http://" + SERVER_ADDRESS + ":8080/");
        assertThat(result.ok()).isFalse();
        assertThat(mapper.counters().snapshot().get("denied")).isEqualTo(denied + 1);
        assertThat(counters.snapshot().get("connects") + counters.snapshot().get("connect_failures")).as("no connection attempted")
                .isEqualTo(connects);
    }

    @Test
    @Order(6)
    void eachVmReachesOnlyItsOwnDevice() throws Exception {
        // vm2's policy allows nothing: the device vm2 reaches by the same name is vm2's, not vm1's.
        Shell.Result fromVm2 = timed(20, "ip", "netns", "exec", VM2, "curl", "-s", "--max-time", "10",
                "--socks5-hostname", "127.0.0.1:1080", "http://" + SERVER_ADDRESS + "/");
        assertThat(fromVm2.ok()).isFalse();
        assertThat(mapper.counters().snapshot().get("vm.vm2.denied")).isPositive();
        // A namespace without a device cannot name one at all.
        assertThatThrownBy(() -> NetworkNamespace.call(SERVER,
                () -> SessionSockets.connect(new SessionAddress.AbstractUnix(SessionAddress.DEFAULT_UNIX_NAME))))
                .hasMessageContaining("Connection refused");
    }

    @Test
    @Order(7)
    void hostileFramesCloseThatSessionOnlyAndEverythingElseGoesOn() throws Exception {
        Random random = new Random(8);
        for (int attempt = 0; attempt < 5; attempt++) {
            byte[] garbage = new byte[64 + random.nextInt(4096)];
            random.nextBytes(garbage);
            garbage[0] = 7; // never version 1
            SessionSocket hostile = NetworkNamespace.call(VM1,
                    () -> SessionSockets.connect(new SessionAddress.AbstractUnix(SessionAddress.DEFAULT_UNIX_NAME)));
            try (hostile) {
                ByteBuffer out = ByteBuffer.allocateDirect(garbage.length);
                out.put(garbage).flip();
                hostile.writeFully(out);
                ByteBuffer in = ByteBuffer.allocateDirect(4096);
                int total = 0;
                while (hostile.read(in) > 0) {
                    total = in.position();
                }
                assertThat(total).as("the device said GOODBYE, then closed").isGreaterThanOrEqualTo(VsockFrame.HEADER_LENGTH);
                assertThat(in.get(VsockFrame.OP_OFFSET)).isEqualTo((byte) VsockFrame.OP_GOODBYE);
            }
        }
        assertThat(counters.snapshot().get("violation.malformed")).isGreaterThanOrEqualTo(5);
        assertThat(curl(VM1, "http://" + SERVER_ADDRESS + "/")).as("vm1's own guest session is untouched").isEqualTo("srv");
        assertThat(curl(VM3, "http://" + SERVER_ADDRESS + "/")).as("other VMs too").isEqualTo("srv");
    }

    @Test
    @Order(8)
    void aThousandConcurrentOffloadedConnectionsAllEchoWhileOneReaderStalls() throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", VM1));
        command.addAll(List.of(peer("clients", SERVER_ADDRESS, Integer.toString(LabPeer.ECHO_PORT), "1000", "socks=1080",
                "stall=" + LabPeer.FIREHOSE_PORT)));
        Process clients = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(clients);
        BufferedReader out = new BufferedReader(new InputStreamReader(clients.getInputStream(), StandardCharsets.UTF_8));
        PrintStream in = new PrintStream(clients.getOutputStream(), true, StandardCharsets.UTF_8);
        String opened = out.readLine();
        assertThat(opened).startsWith("open ok=1000 failed=0");
        for (int round = 0; round < 3; round++) {
            in.println("round");
            assertThat(out.readLine()).as("round %d", round).isEqualTo("round ok=1000 failed=0 failed_backends={}");
        }
        in.println("quit");
        assertThat(clients.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    @Order(9)
    void withTheHostDeviceGoneAVmWithANicConnectsThroughItsOwnStack() throws Exception {
        long connects = counters.snapshot().get("connects");
        assertThat(curl(VM3, "http://" + SERVER_ADDRESS + "/")).isEqualTo("srv");
        assertThat(counters.snapshot().get("connects")).as("offloaded while the device is there").isEqualTo(connects + 1);
        vm3Device.close();
        devices.remove(vm3Device);
        assertThat(curl(VM3, "http://" + SERVER_ADDRESS + "/")).isEqualTo("srv");
        assertThat(counters.snapshot().get("connects")).as("not through the host").isEqualTo(connects + 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // the status file is written once a second
        while (JSON.readTree(work.resolve("vm3.json").toFile()).path("counters").path("local").asLong() == 0) {
            assertThat(System.nanoTime()).as("vm3's guest counts a connection through its own stack").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    // ---- helpers

    private static Shell.Result timed(int seconds, String... command) {
        return Shell.run(Duration.ofSeconds(seconds), List.of(command));
    }

    private static void run(String... command) {
        Shell.run(command).orThrow();
    }

    private static String[] peer(String... arguments) {
        return LabPeer.command(arguments);
    }

    private static Process start(String namespace, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        return new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static Process startLogged(String namespace, Path log, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        return new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String exec(String namespace, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        return Shell.run(Duration.ofSeconds(60), full).orThrow().output().strip();
    }

    private static String curl(String namespace, String url) {
        return exec(namespace, "curl", "-s", "--max-time", "10", "--socks5-hostname", "127.0.0.1:1080", url);
    }

    private void awaitGuestSession(String vm) throws Exception {
        Path status = work.resolve(vm + ".json");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(status) && JSON.readTree(status.toFile()).path("session").asBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(vm + "'s guest has no session after 30 s");
    }

    private static void awaitListening(String namespace, int port) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            if (!Shell.run("ip", "netns", "exec", namespace, "ss", "-Hltn", "sport", "= :" + port).output().isBlank()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("nothing listens on " + port + " in " + namespace);
    }
}
