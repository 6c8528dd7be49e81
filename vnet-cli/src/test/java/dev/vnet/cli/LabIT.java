package dev.vnet.cli;

import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.CountersReader;
import dev.vnet.dataplane.sys.Libc;
import dev.vnet.dataplane.sys.NetworkNamespace;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.lab.Demo;
import dev.vnet.lab.Lab;
import dev.vnet.lab.LabChecks;
import dev.vnet.lab.LabNames;
import dev.vnet.lab.LabState;
import dev.vnet.lab.RunningLab;
import dev.vnet.lab.Shell;
import dev.vnet.lab.Topology;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.MacAddress;
import dev.vnet.wire.VnpHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static dev.vnet.cli.VnetRun.vnet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The foundation end to end, as root with real namespaces, TAPs, agent processes, ping and iperf3:
 * the demo's checks, hostile input against running agents, and a teardown that leaves nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabIT {
    private static final String LAB = "it";
    private RunningLab lab;

    @BeforeAll
    void up() {
        assumeTrue(Lab.isRoot(), "needs root for namespaces and TAP devices");
        Lab.down(LAB); // a run that was killed may have left it
        lab = Lab.up(Topology.demo().withName(LAB), Launchers.sameJvm());
    }

    @AfterAll
    void down() {
        if (lab != null) {
            lab.down();
        }
    }

    @Test
    @Order(1)
    void demoChecksPass() {
        List<Demo.Check> checks = Demo.checks(lab);
        Demo.printTable(checks, System.out);
        assertThat(checks).hasSize(8).allSatisfy(c -> assertThat(c.outcome().passed()).as(c.name() + ": " + c.outcome().detail()).isTrue());
    }

    @Test
    @Order(2)
    void aLargeFileCrossesHostsOverTcpIntactWithOffloads() throws Exception {
        Path directory = Files.createTempDirectory("vnet-it-file");
        Path sent = directory.resolve("sent.bin");
        Path received = directory.resolve("received.bin");
        byte[] content = new byte[96 << 20];
        new Random(42).nextBytes(content);
        Files.write(sent, content);
        List<String> peer = new ArrayList<>(Launchers.sameJvm().vnetCommand());
        peer.set(peer.size() - 1, TcpFilePeer.class.getName());
        List<String> receiver = new ArrayList<>(peer);
        receiver.addAll(List.of("receive", "5300", received.toString()));
        Process server = lab.spawn("blue2", receiver.toArray(String[]::new));
        try {
            for (int i = 0; i < 200 && lab.exec("blue2", java.time.Duration.ofSeconds(5), "ss", "-Hltn", "sport", "= :5300").output().isBlank(); i++) {
                Thread.sleep(50);
            }
            List<String> sender = new ArrayList<>(peer);
            sender.addAll(List.of("send", lab.vm("blue2").address(), "5300", sent.toString()));
            Shell.Result result = lab.exec("blue1", java.time.Duration.ofSeconds(90), sender.toArray(String[]::new));
            assertThat(result.ok()).as("sender: " + result.output()).isTrue();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(sha256(received)).isEqualTo(sha256(sent));
            assertThat(lab.counters("host1").value("offload.tso_segments")).as("sent as TSO segments").isPositive();
            assertThat(lab.counters("host2").value("offload.gro_frames")).as("delivered coalesced").isPositive();
        } finally {
            server.destroyForcibly();
            Files.deleteIfExists(sent);
            Files.deleteIfExists(received);
            Files.deleteIfExists(directory);
        }
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    @Order(3)
    void garbageAndForgeriesOnTheUnderlayAreDroppedByReasonAndTrafficStillFlows() throws Exception {
        Map<String, Long> before = lab.counters("host1").snapshot();
        int host1 = Ipv4Address.parse(lab.hostAddress("host1"));
        int blue1Port = lab.vm("blue1").port();
        int blue1 = Ipv4Address.parse(lab.vm("blue1").address());
        int blue2 = Ipv4Address.parse(lab.vm("blue2").address());
        long now = System.currentTimeMillis() / 1000;

        List<byte[]> datagrams = new ArrayList<>();
        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            byte[] garbage = new byte[1 + random.nextInt(1400)];
            random.nextBytes(garbage);
            if (garbage.length > VnpHeader.VERSION_OFFSET) {
                garbage[VnpHeader.VERSION_OFFSET] = 0; // never version 1: each of these is malformed
            }
            datagrams.add(garbage);
        }
        datagrams.add(vnp(0x1234_5678_9ABC_DEF0L, now + 300, blue2, blue1));         // forged token
        datagrams.add(vnp(0x1234_5678_9ABC_DEF0L, now - 3600, blue2, blue1));        // expired
        datagrams.add(vnp(0x1234_5678_9ABC_DEF0L, now + 100_000, blue2, blue1));     // expiry beyond any TTL
        datagrams.add(vnp(0x1234_5678_9ABC_DEF0L, now + 300, blue2, Ipv4Address.parse("10.0.0.99"))); // not blue1
        sendFromNamespace(lab.hostNamespace("host2"), host1, blue1Port, datagrams);

        Map<String, Long> after = awaitCounter("host1", "underlay.rx_packets", before.get("underlay.rx_packets") + datagrams.size());
        assertThat(delta(before, after, "drop.malformed-encapsulation")).isEqualTo(50);
        assertThat(delta(before, after, "drop.bad-token")).isEqualTo(1);
        assertThat(delta(before, after, "drop.token-expired")).isEqualTo(1);
        assertThat(delta(before, after, "drop.expiry-too-far")).isEqualTo(1);
        assertThat(delta(before, after, "drop.wrong-destination")).isEqualTo(1);
        assertThat(delta(before, after, "port.blue1.tx_packets")).isZero();
        assertThat(lab.counters("host1").state()).isEqualTo(AgentState.RUNNING);
        assertThat(new LabChecks(lab).ping("blue2", lab.vm("blue1").address()).passed()).isTrue();
    }

    @Test
    @Order(4)
    void malformedFramesFromAVmAreDroppedByReasonAndTrafficStillFlows() throws Exception {
        Map<String, Long> before = lab.counters("host1").snapshot();
        long blue1Mac = MacAddress.parse(lab.vm("blue1").mac());
        long blue2Mac = MacAddress.parse(lab.vm("blue2").mac());
        int blue1Ip = Ipv4Address.parse(lab.vm("blue1").address());
        int blue2Ip = Ipv4Address.parse(lab.vm("blue2").address());

        byte[] badHeaderLength = ipv4Frame(blue1Mac, blue2Mac, blue1Ip, blue2Ip);
        badHeaderLength[EthernetFrame.HEADER_LENGTH] = 0x42; // IHL 2
        byte[] badTotalLength = ipv4Frame(blue1Mac, blue2Mac, blue1Ip, blue2Ip);
        ByteBuffer.wrap(badTotalLength).putShort(EthernetFrame.HEADER_LENGTH + Ipv4Packet.TOTAL_LENGTH_OFFSET, (short) 9000);
        byte[] spoofedMac = ipv4Frame(0x02_00_00_00_66_66L, blue2Mac, blue1Ip, blue2Ip);
        byte[] spoofedIp = ipv4Frame(blue1Mac, blue2Mac, Ipv4Address.parse("10.0.0.99"), blue2Ip);
        sendRawFrames(lab.vm("blue1").namespace(), List.of(badHeaderLength, badTotalLength, spoofedMac, spoofedIp));

        Map<String, Long> after = awaitCounter("host1", "port.blue1.rx_packets", before.get("port.blue1.rx_packets") + 4);
        assertThat(delta(before, after, "drop.malformed-ipv4")).isEqualTo(2);
        assertThat(delta(before, after, "drop.spoofed-source")).isEqualTo(2);
        assertThat(delta(before, after, "underlay.tx_packets")).isZero();
        assertThat(new LabChecks(lab).ping("blue1", lab.vm("blue2").address()).passed()).isTrue();
    }

    @Test
    @Order(5)
    void agentStatsAndLabStatusReadTheLiveLab() {
        assertThat(vnet("agent", "stats", "--lab", LAB, "--host", "host1"))
                .contains("host1:", "port.blue1.rx_packets", "drop.malformed-encapsulation", "arp.replies");
        assertThat(vnet("lab", "status"))
                .contains("lab 'it': up, 9 namespaces")
                .containsPattern("host1 +pid \\d+ +alive +RUNNING")
                .containsPattern("host2 +pid \\d+ +alive +RUNNING")
                .containsPattern("controller +pid \\d+ +alive");
    }

    @Test
    @Order(5)
    void theAgentGivesEveryVmASocketDeviceWithThePolicyFromItsFile() throws Exception {
        String namespace = lab.vm("blue1").namespace();
        dev.vnet.vsock.transport.SessionAddress device = new dev.vnet.vsock.transport.SessionAddress.AbstractUnix(
                dev.vnet.vsock.transport.SessionAddress.DEFAULT_UNIX_NAME);
        try (dev.vnet.vsock.guest.GuestClient guest = NetworkNamespace.call(namespace,
                () -> dev.vnet.vsock.guest.GuestClient.connect(device, "blue1"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> guest.resolve("localhost"))
                    .as("no policy file yet: everything is denied").hasMessageContaining("EACCES");
            Files.writeString(LabNames.vsockPolicyDir(LAB).resolve("blue1.json"),
                    "{\"vm\": \"blue1\", \"default\": \"deny\", \"acl\": [{\"allow\": \"dns://localhost\"}]}");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // the agent rereads policies every second
            while (true) {
                try {
                    assertThat(guest.resolve("localhost")).isNotEmpty();
                    break;
                } catch (dev.vnet.vsock.guest.OffloadException e) {
                    assertThat(System.nanoTime()).as("the policy was not picked up: " + e.getMessage()).isLessThan(deadline);
                    Thread.sleep(200);
                }
            }
        }
        Path status = LabNames.vsockStatusFile(LAB, "host1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!(Files.exists(status) && Files.readString(status).contains("\"blue1\""))) {
            assertThat(System.nanoTime()).as("host1's socket devices in " + status).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @Test
    @Order(6)
    void controllerDownKeepsForwardingAndARestartAfterKill9LosesNothingAndResyncsWithoutTouchingVms() throws Exception {
        String vmsBefore;
        try (var api = lab.api()) {
            vmsBefore = api.get("/v2.0/vms").body().toString();
        }
        Map<String, String> nicsBefore = nicIndexes();
        LabChecks check = new LabChecks(lab);
        assertThat(check.ping("blue1", lab.vm("blue2").address()).passed()).as("the pair has its token").isTrue();

        // 60 pings, 50 ms apart, across the kill and the restart: a pair with a valid token needs no controller.
        Process pings = new ProcessBuilder("ip", "netns", "exec", lab.vm("blue1").namespace(),
                "ping", "-q", "-c", "60", "-i", "0.05", "-W", "1", lab.vm("blue2").address()).redirectErrorStream(true).start();
        ProcessHandle controller = Lab.controllerProcess(LAB).orElseThrow();
        controller.destroyForcibly(); // SIGKILL: no chance to flush or say goodbye
        controller.onExit().get(10, TimeUnit.SECONDS);

        long unavailableBefore = lab.counters("host2").value("drop.registry-unavailable");
        assertThat(check.ping("blue2", lab.vm("blue3").address()).passed()).as("a new pair without the controller").isFalse();
        assertThat(lab.counters("host2").value("drop.registry-unavailable")).isGreaterThan(unavailableBefore);

        Lab.restartController(lab, Launchers.sameJvm());
        try (var api = lab.api()) {
            assertThat(api.get("/v2.0/vms").body().toString()).as("every resource survived kill -9").isEqualTo(vmsBefore);
        }
        assertThat(pings.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String summary = new String(pings.getInputStream().readAllBytes());
        assertThat(summary).as("ping across the controller's death and restart").contains("60 received", " 0% packet loss");

        // A VM created now on host2, in blue, with the CLI: its agent creates the namespace and TAP, and
        // host1, which serves blue too, is told; --wait returns once both applied it (which also shows both
        // agents reconnected by themselves), so the guest's NIC is there the moment it returns.
        String created = vnet("vm", "create", "blue4", "--lab", LAB, "--host", "host2", "--network", "blue", "--wait", "--json");
        String blue4 = new com.fasterxml.jackson.databind.ObjectMapper().readTree(created).path("vm").path("ip_address").asText();
        Shell.Result nic = Shell.run("ip", "-n", LabNames.vmNamespace(LAB, "blue4"), "-o", "addr", "show", "dev", LabNames.VM_NIC);
        assertThat(nic.output()).as("blue4's NIC right after --wait").contains("inet " + blue4 + "/24");
        assertThat(nicIndexes()).as("the resync recreated no VM's NIC").isEqualTo(nicsBefore);
        String blue4Namespace = LabNames.vmNamespace(LAB, "blue4");
        assertThat(Lab.namespacesOf(LAB)).contains(blue4Namespace);
        Thread.sleep(1_500); // past the failed pair's retry pause
        assertThat(check.ping("blue2", lab.vm("blue3").address()).passed()).as("the new pair after the restart").isTrue();
        assertThat(Shell.run(Duration.ofSeconds(10), List.of("ip", "netns", "exec", lab.vm("blue1").namespace(),
                "ping", "-c", "2", "-W", "2", blue4)).ok()).as("blue1 -> the new blue4").isTrue();

        vnet("vm", "delete", "blue4", "--lab", LAB, "--wait");
        assertThat(Lab.namespacesOf(LAB)).as("deleting the VM removed its namespace").doesNotContain(blue4Namespace);
    }

    /** Each VM's NIC's interface index: a NIC created again gets a new one. */
    private Map<String, String> nicIndexes() {
        Map<String, String> indexes = new java.util.TreeMap<>();
        for (var vm : lab.vms()) {
            Shell.Result link = Shell.run("ip", "-n", vm.namespace(), "-o", "link", "show", "dev", LabNames.VM_NIC);
            assertThat(link.ok()).as(vm.name() + " has " + LabNames.VM_NIC).isTrue();
            indexes.put(vm.name(), link.output().split(":")[0]);
        }
        return indexes;
    }

    private static String networkId(dev.vnet.controller.api.client.ApiClient api, String name) {
        return api.get("/v2.0/networks").body().path("networks").findParents("name").stream()
                .filter(n -> n.path("name").asText().equals(name)).findFirst().orElseThrow().path("id").asText();
    }

    @Test
    @Order(7)
    void labDownLeavesNothingBehind() {
        List<Long> agentPids = LabState.load(LAB).orElseThrow().agents().stream().map(LabState.Agent::pid).toList();
        List<String> removed = lab.down();
        lab = null;

        assertThat(removed).hasSize(3 + 9); // 2 agents and the controller; fabric, controller, 2 hosts, 5 VMs
        assertNothingLeft(LAB, agentPids);
    }

    @Test
    @Order(8)
    void labDownCleansUpAfterTheLabCommandWasKilledHalfWay() throws Exception {
        String crashed = "crash";
        Path topology = Files.createTempFile("vnet-crash", ".yaml");
        try (var in = Topology.class.getResourceAsStream("demo.yaml")) {
            Files.write(topology, in.readAllBytes());
        }
        List<String> command = new ArrayList<>(Launchers.sameJvm().vnetCommand());
        command.addAll(List.of("lab", "up", topology.toString(), "--name", crashed));
        Process up = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        // Kill it once it has created some namespaces (or whenever it is done, if it is faster than us).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (up.isAlive() && System.nanoTime() < deadline
                && LabState.load(crashed).map(s -> s.namespaces().size()).orElse(0) < 5) {
            Thread.sleep(20);
        }
        up.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        List<Long> agentPids = LabState.load(crashed).map(s -> s.agents().stream().map(LabState.Agent::pid).toList()).orElse(List.of());
        assertThat(Lab.namespacesOf(crashed)).isNotEmpty();

        Lab.down(crashed);

        assertNothingLeft(crashed, agentPids);
        Files.deleteIfExists(topology);
    }

    @Test
    @Order(9)
    void demoCommandKeepsItsLabOnRequestAndLabDownRemovesIt() {
        assertThat(vnet("demo", "--keep")).contains("all checks passed", "lab kept");
        List<Long> agentPids = LabState.load("demo").orElseThrow().agents().stream().map(LabState.Agent::pid).toList();
        assertThat(Lab.namespacesOf("demo")).hasSize(9);

        assertThat(vnet("lab", "down", "demo")).contains("lab 'demo': removed 12 items");

        assertNothingLeft("demo", agentPids);
    }

    // ---- helpers ----

    private static void assertNothingLeft(String name, List<Long> agentPids) {
        assertThat(Lab.namespacesOf(name)).isEmpty();
        assertThat(LabNames.labDir(name)).doesNotExist();
        for (long pid : agentPids) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("agent pid " + pid).isFalse();
        }
        Shell.Result processes = Shell.run("pgrep", "-f", LabNames.labDir(name).toString());
        assertThat(processes.output().strip()).as("processes of lab " + name).isEmpty();
    }

    private Map<String, Long> awaitCounter(String host, String label, long atLeast) throws InterruptedException {
        CountersReader reader = lab.counters(host);
        for (int i = 0; i < 100 && reader.value(label) < atLeast; i++) {
            Thread.sleep(20);
        }
        assertThat(reader.value(label)).as(label).isGreaterThanOrEqualTo(atLeast);
        return reader.snapshot();
    }

    private static long delta(Map<String, Long> before, Map<String, Long> after, String label) {
        return after.getOrDefault(label, 0L) - before.getOrDefault(label, 0L);
    }

    private static byte[] ipv4Frame(long sourceMac, long destinationMac, int sourceIp, int destinationIp) {
        byte[] frame = new byte[EthernetFrame.HEADER_LENGTH + 20 + 32];
        ByteBuffer b = ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(b, 0, destinationMac, sourceMac, EthernetFrame.ETHER_TYPE_IPV4);
        Ipv4Packet.writeHeader(b, EthernetFrame.HEADER_LENGTH, 52, 1, 64, Ipv4Packet.PROTOCOL_UDP, sourceIp, destinationIp);
        return frame;
    }

    /** A well-formed VNP datagram with the given token and expiry around a small IPv4 packet. */
    private static byte[] vnp(long token, long expiry, int source, int destination) {
        byte[] datagram = new byte[VnpHeader.LENGTH + 20 + 32];
        ByteBuffer b = ByteBuffer.wrap(datagram);
        VnpHeader.write(b, 0, token, expiry, 0);
        Ipv4Packet.writeHeader(b, VnpHeader.LENGTH, 52, 1, 64, Ipv4Packet.PROTOCOL_UDP, source, destination);
        return datagram;
    }

    /** Sends UDP datagrams to the agent's port from a socket that lives in {@code namespace}. */
    private void sendFromNamespace(String namespace, int destination, int port, List<byte[]> datagrams) throws Exception {
        NetworkNamespace.call(namespace, () -> {
            try (UdpSocket socket = UdpSocket.bind(0, 0); Arena arena = Arena.ofConfined()) {
                Libc libc = new Libc();
                MemorySegment to = UdpSocket.socketAddress(arena, destination, port);
                PacketBuffer packet = PacketBuffer.allocate(arena, 2048);
                for (byte[] datagram : datagrams) {
                    packet.buffer().put(0, datagram);
                    assertThat(socket.send(libc, packet, 0, datagram.length, to)).isEqualTo(datagram.length);
                }
            }
            return null;
        });
    }

    /** Writes raw Ethernet frames onto the VM's eth0 with an AF_PACKET socket, as a hostile guest would. */
    private static void sendRawFrames(String namespace, List<byte[]> frames) throws Exception {
        Shell.Result link = Shell.run("ip", "-n", namespace, "-o", "link", "show", LabNames.VM_NIC).orThrow();
        int ifindex = Integer.parseInt(link.output().substring(0, link.output().indexOf(':')).strip());
        NetworkNamespace.call(namespace, () -> {
            Libc libc = new Libc();
            int fd = libc.socket(17 /* AF_PACKET */, 3 /* SOCK_RAW */ | Libc.SOCK_CLOEXEC, 0);
            assertThat(fd).as("AF_PACKET socket").isNotNegative();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment sockaddr = arena.allocate(20, 4);
                sockaddr.set(JAVA_SHORT, 0, (short) 17);
                sockaddr.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) EthernetFrame.ETHER_TYPE_IPV4);
                sockaddr.set(JAVA_INT, 4, ifindex);
                sockaddr.set(JAVA_BYTE, 11, (byte) 6);
                PacketBuffer packet = PacketBuffer.allocate(arena, 2048);
                for (byte[] frame : frames) {
                    packet.buffer().put(0, frame);
                    long sent = libc.sendto(fd, packet.address(0), frame.length, 0, sockaddr.address(), 20);
                    assertThat(sent).as("sendto on AF_PACKET: " + Libc.strerror(libc.errno())).isEqualTo(frame.length);
                }
            } finally {
                libc.close(fd);
            }
            return null;
        });
    }


}
