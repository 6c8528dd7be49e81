package dev.vnet.gateway.process;

import dev.vnet.dataplane.sys.Libc;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.ReadinessWait;
import dev.vnet.dataplane.sys.TapDevice;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.gateway.health.HealthChecker;
import dev.vnet.gateway.path.GatewayContext;
import dev.vnet.gateway.path.GatewayCounters;
import dev.vnet.gateway.path.GatewayEgress;
import dev.vnet.gateway.path.GatewayTables;
import dev.vnet.gateway.path.IngressTokenSource;
import dev.vnet.gateway.path.NetworkKeys;
import dev.vnet.gateway.path.PublicForwarder;
import dev.vnet.gateway.path.UnderlayForwarder;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpHeader;
import org.agrona.concurrent.SystemEpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A running gateway in the calling process's network namespace: the public side is a TUN device that
 * the namespace routes the VIPs, the gateway's public address and the probe prefix into; the underlay
 * side is one UDP socket on the gateway's underlay address and port (the one the registry hands to
 * VMs' hosts). One thread reads each, as the agent's threads do (non-blocking reads, a short spin,
 * then {@code poll}).
 *
 * <p>The namespace's routing is the gateway's to keep: each VIP it serves gets a /32 route into the
 * TUN device when it appears and loses it when it goes, which is what lets the upstream router's
 * ECMP reach it; forwarding is on and reverse-path filtering off, because replies leave towards
 * clients that the TUN device is not the route to.
 */
public final class GatewayRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayRuntime.class);
    private static final int MAX_PACKET = 65535;

    /**
     * @param underlayAddress the gateway's address on the underlay (also the probe source the VMs see)
     * @param publicAddress   the gateway's own public address: egress translation
     */
    public record Settings(String name, int underlayAddress, int port, int publicAddress, int underlayMtu,
                           String location, String tunName, int flowCapacity, long spinNanos) {
    }

    private final Settings settings;
    private final TapDevice tun;
    private final UdpSocket socket;
    private final GatewayContext context;
    private final HealthChecker health = new HealthChecker();
    private final Arena arena = Arena.ofShared();
    private final List<Thread> threads = new ArrayList<>();
    private final Set<Integer> routedVips = new HashSet<>();
    private volatile boolean running = true;

    public GatewayRuntime(Settings settings, IngressTokenSource tokens, GatewayCounters counters) {
        this.settings = settings;
        this.tun = TapDevice.createTun(settings.tunName());
        try {
            this.socket = UdpSocket.bind(settings.underlayAddress(), settings.port());
        } catch (RuntimeException e) {
            tun.close();
            throw e;
        }
        ThreadLocal<Libc> libcs = ThreadLocal.withInitial(Libc::new);
        GatewayEgress egress = new GatewayEgress() {
            @Override
            public boolean toUnderlay(PacketBuffer packet, int index, int length, MemorySegment socketAddress) {
                return socket.send(libcs.get(), packet, index, length, socketAddress) == length;
            }

            @Override
            public boolean toPublic(PacketBuffer packet, int index, int length) {
                return tun.write(libcs.get(), packet, index, length) == length;
            }
        };
        this.context = new GatewayContext(settings.publicAddress(), settings.underlayAddress(), settings.underlayMtu(), tokens,
                counters, egress, new SystemEpochClock());
        try {
            configureNamespace();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        start();
    }

    private void configureNamespace() {
        String dev = settings.tunName();
        int vmMtu = settings.underlayMtu() - 28 - VnpHeader.LENGTH;
        sysctl("net.ipv4.ip_forward", "1");
        sysctl("net.ipv4.conf.all.rp_filter", "0");
        sysctl("net.ipv4.conf.default.rp_filter", "0");
        ip("link", "set", dev, "mtu", Integer.toString(vmMtu), "up");
        sysctl("net.ipv4.conf." + dev + ".rp_filter", "0");
        ip("route", "replace", Ipv4Address.toString(settings.publicAddress()) + "/32", "dev", dev);
        ip("route", "replace", Ipv4Address.toString(GatewayTables.PROBE_PREFIX) + "/" + GatewayTables.PROBE_PREFIX_LENGTH,
                "dev", dev, "src", Ipv4Address.toString(settings.underlayAddress()));
    }

    private void start() {
        Libc tunLibc = new Libc();
        Libc udpLibc = new Libc();
        tun.nonBlocking(tunLibc);
        PublicForwarder publicSide = new PublicForwarder(context, settings.flowCapacity());
        UnderlayForwarder underlaySide = new UnderlayForwarder(context);
        PacketBuffer fromTun = PacketBuffer.allocate(arena, PublicForwarder.HEADROOM + MAX_PACKET + VnpHeader.RETURN_TOKEN_OPTION_LENGTH);
        PacketBuffer fromUdp = PacketBuffer.allocate(arena, MAX_PACKET);
        UdpSocket.Message message = new UdpSocket.Message(arena);
        ReadinessWait tunWait = new ReadinessWait(tunLibc, settings.spinNanos(), arena, tun.fd());
        ReadinessWait udpWait = new ReadinessWait(udpLibc, settings.spinNanos(), arena, socket.fd());
        threads.add(Thread.ofPlatform().name("gw-public").daemon().start(() -> {
            while (running) {
                int n = tun.read(tunLibc, fromTun, PublicForwarder.HEADROOM, MAX_PACKET);
                if (n > 0) {
                    tunWait.activity();
                    publicSide.fromPublic(fromTun, PublicForwarder.HEADROOM, n);
                } else if (!tunWait.idle()) {
                    return;
                }
            }
        }));
        threads.add(Thread.ofPlatform().name("gw-underlay").daemon().start(() -> {
            while (running) {
                int n = socket.receiveBatch(udpLibc, message, fromUdp, 0, MAX_PACKET, Libc.MSG_DONTWAIT);
                if (n >= 0) {
                    udpWait.activity();
                    underlaySide.fromUnderlay(fromUdp, 0, n, message.senderAddress(), message.senderPort());
                } else if (!udpWait.idle()) {
                    return;
                }
            }
        }));
    }

    /**
     * Serves these VIPs with these network keys from now on: swaps the tables, keeps the namespace's
     * VIP routes in step, and points the health checker at the new backends.
     */
    public synchronized void apply(GatewayTables tables, NetworkKeys keys, long maxTokenLifeSeconds, long clockSkewSeconds,
                                   List<HealthChecker.Target> targets) {
        context.tokenRules(maxTokenLifeSeconds, clockSkewSeconds);
        context.keys(keys);
        context.tables(tables);
        Set<Integer> wanted = new HashSet<>();
        tables.services().forEach(service -> wanted.add(service.address()));
        for (int vip : wanted) {
            if (!routedVips.contains(vip)) {
                ip("route", "replace", Ipv4Address.toString(vip) + "/32", "dev", settings.tunName());
            }
        }
        for (int vip : routedVips) {
            if (!wanted.contains(vip)) {
                ip("route", "del", Ipv4Address.toString(vip) + "/32", "dev", settings.tunName());
            }
        }
        routedVips.clear();
        routedVips.addAll(wanted);
        health.watch(targets);
    }

    /** The probe address of backend (network, address) in the current tables; 0 when none. */
    public int probeAddress(long networkId, int address) {
        return context.tables().probeOf(networkId, address);
    }

    public GatewayContext context() {
        return context;
    }

    public HealthChecker health() {
        return health;
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void close() {
        running = false;
        health.close();
        for (Thread thread : threads) {
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        socket.close();
        tun.close();
        arena.close();
    }

    private static void ip(String... args) {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        run(command);
    }

    private static void sysctl(String key, String value) {
        run(List.of("sysctl", "-q", "-w", key + "=" + value));
    }

    private static void run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output.strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }
}
