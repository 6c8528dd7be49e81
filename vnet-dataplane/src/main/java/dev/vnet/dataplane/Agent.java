package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.Libc;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.ReadinessWait;
import dev.vnet.dataplane.sys.TapDevice;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import dev.vnet.wire.VirtioNetHeader;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A host's agent: owns the TAP and the reserved UDP port of each VM the registry placed on this host,
 * and forwards between them with virtual network pairs.
 *
 * <p>Threads: per VM, one reads its TAP ({@link OutboundForwarder}) and one reads its port
 * ({@link InboundForwarder}); each owns its buffers and syscall state. Reads are non-blocking; a thread
 * that found nothing waits in {@code poll} ({@link ReadinessWait}), after spinning for the configured
 * busy-poll time. They share only immutable
 * tables, the pair tables (lock-free reads) and the counters, so forwarding takes no lock once a pair
 * has a token.
 *
 * <p>Each TAP is created in the agent's own namespace through {@code /dev/net/tun}, given the VM's MAC
 * and MTU, and moved into the VM's namespace; the agent keeps the descriptor, so the VM's NIC lives
 * exactly as long as the agent does.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final int MAX_FRAME = 65536;

    private final Counters counters;
    private final DataplaneCounters dataplaneCounters;
    private final Arena arena = Arena.ofShared();
    private final List<TapDevice> taps = new ArrayList<>();
    private final List<UdpSocket> sockets = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    private Agent(Counters counters) {
        this.counters = counters;
        this.dataplaneCounters = new DataplaneCounters(counters);
    }

    /**
     * Creates this host's TAPs and ports, moves each TAP into its VM's namespace, and starts forwarding.
     * On failure everything created so far is released.
     */
    public static Agent start(AgentConfig config, TokenSource tokens, Counters counters, EpochClock clock) {
        Agent agent = new Agent(counters);
        try {
            agent.open(config, tokens, clock);
        } catch (RuntimeException e) {
            agent.close();
            counters.state(AgentState.FAILED);
            throw e;
        }
        counters.state(AgentState.RUNNING);
        return agent;
    }

    private void open(AgentConfig config, TokenSource tokens, EpochClock clock) {
        int underlay = Ipv4Address.parse(config.underlayAddress());
        int vmMtu = OutboundForwarder.vmMtu(config.underlayMtu());
        List<LocalVm> vms = new ArrayList<>();
        for (AgentConfig.Vm spec : config.vms()) {
            TapDevice tap = TapDevice.create(spec.tap(), config.offloads());
            taps.add(tap);
            DeviceCommands.moveToNamespace(tap.name(), spec.mac(), vmMtu, spec.namespace());
            UdpSocket socket = UdpSocket.bind(underlay, spec.port());
            sockets.add(socket);
            if (config.offloads()) {
                socket.enableGro();
            }
            vms.add(new LocalVm(spec.name(), (int) spec.networkId(), Ipv4Address.parse(spec.address()),
                    spec.prefixLength(), MacAddress.parse(spec.mac()), spec.port(), spec.keyBytes(), tap, socket, counters));
            LOG.info("vm {}: TAP {} in {}, {} {} port {}", spec.name(), tap.name(), spec.namespace(), spec.address(),
                    spec.mac(), spec.port());
        }
        LocalVms locals = new LocalVms(vms);
        for (LocalVm vm : vms) {
            Libc tapLibc = new Libc();
            OutboundForwarder outbound = new OutboundForwarder(vm, locals, tokens, new SyscallEgress(tapLibc, new UdpSocket.Message(arena)),
                    () -> new SyscallEgress(new Libc(), new UdpSocket.Message(Arena.ofAuto())), dataplaneCounters, clock,
                    config.underlayMtu());
            Libc portLibc = new Libc();
            InboundForwarder inbound = new InboundForwarder(vm, outbound, new SyscallEgress(portLibc, new UdpSocket.Message(arena)),
                    dataplaneCounters, clock, config.skewSeconds(), config.maxTtlSeconds());
            vm.tap().nonBlocking(tapLibc);
            long spinNanos = TimeUnit.MICROSECONDS.toNanos(config.busyPollMicros());
            Pump fromTap = new TapPump(vm, tapLibc, outbound);
            Pump fromPort = new PortPump(vm, portLibc, inbound);
            ReadinessWait tapWait = new ReadinessWait(tapLibc, spinNanos, arena, vm.tap().fd());
            ReadinessWait portWait = new ReadinessWait(portLibc, spinNanos, arena, vm.socket().fd());
            threads.add(Thread.ofPlatform().name("tap-" + vm.name()).daemon().start(() -> pump(tapWait, fromTap)));
            threads.add(Thread.ofPlatform().name("port-" + vm.name()).daemon().start(() -> pump(portWait, fromPort)));
        }
        LOG.info("host {}: underlay {}, {} VMs, offloads {}, busy-poll {} µs", config.host(), config.underlayAddress(),
                vms.size(), config.offloads() ? "on (TSO, checksum, UDP GSO/GRO)" : "off", config.busyPollMicros());
    }

    /** Runs {@code pump} until it stops or the agent closes, waiting on {@code wait} when it found nothing. */
    private void pump(ReadinessWait wait, Pump pump) {
        while (running) {
            int result = pump.pumpOnce();
            if (result == Pump.STOP) {
                return;
            }
            if (result == Pump.WORKED) {
                wait.activity();
            } else if (!wait.idle()) {
                if (running) {
                    LOG.error("{}: poll failed; forwarding on this thread stops", Thread.currentThread().getName());
                }
                return;
            }
        }
    }

    /** One non-blocking read and its forwarding, for one direction of one VM. */
    private interface Pump {
        int STOP = -1;
        int IDLE = 0;
        int WORKED = 1;

        int pumpOnce();
    }

    /** VM → underlay (or → a local VM): reads the VM's TAP. */
    private final class TapPump implements Pump {
        private final LocalVm vm;
        private final Libc libc;
        private final OutboundForwarder forwarder;
        private final PacketBuffer packet = PacketBuffer.allocate(arena, OutboundForwarder.HEADROOM + MAX_FRAME);
        // With offloads the virtio header lands just before the frame, where the forwarder expects it.
        private final int header;

        TapPump(LocalVm vm, Libc libc, OutboundForwarder forwarder) {
            this.vm = vm;
            this.libc = libc;
            this.forwarder = forwarder;
            this.header = vm.offloads() ? VirtioNetHeader.LENGTH : 0;
        }

        @Override
        public int pumpOnce() {
            int n = vm.tap().read(libc, packet, OutboundForwarder.HEADROOM - header, MAX_FRAME);
            if (n >= header) {
                forwarder.fromVm(packet, OutboundForwarder.HEADROOM, n - header);
                return WORKED;
            }
            if (-n == Libc.EAGAIN || -n == Libc.EINTR) {
                return IDLE;
            }
            if (running) {
                LOG.error("vm {}: reading its TAP failed: {}; its outbound path stops", vm.name(), Libc.strerror(-n));
            }
            return STOP;
        }
    }

    /** Underlay → VM: receives GRO batches on the VM's port. */
    private final class PortPump implements Pump {
        private final LocalVm vm;
        private final Libc libc;
        private final InboundForwarder forwarder;
        private final PacketBuffer packet = PacketBuffer.allocate(arena, InboundForwarder.HEADROOM + MAX_FRAME);
        private final UdpSocket.Message message = new UdpSocket.Message(arena);

        PortPump(LocalVm vm, Libc libc, InboundForwarder forwarder) {
            this.vm = vm;
            this.libc = libc;
            this.forwarder = forwarder;
        }

        @Override
        public int pumpOnce() {
            int n = vm.socket().receiveBatch(libc, message, packet, InboundForwarder.HEADROOM, MAX_FRAME, Libc.MSG_DONTWAIT);
            if (n > 0 || (n == 0 && !vm.socket().isClosed())) {
                forwarder.fromUnderlayBatch(packet, InboundForwarder.HEADROOM, n, message.segmentSize(),
                        message.senderAddress(), message.senderPort());
                return WORKED;
            }
            if (n < 0 && (-n == Libc.EAGAIN || -n == Libc.EINTR) && !vm.socket().isClosed()) {
                return IDLE;
            }
            if (n < 0 && running) {
                LOG.error("vm {}: receiving on port {} failed: {}; its inbound path stops", vm.name(), vm.port(),
                        Libc.strerror(-n));
            }
            return STOP;
        }
    }

    /**
     * Stops forwarding and releases sockets and TAPs. Forwarding threads notice within one poll timeout
     * ({@link ReadinessWait#MAX_SLEEP_MILLIS}); descriptors are closed only after they ended, so no
     * thread ever reads a descriptor number the process has already reused.
     */
    @Override
    public void close() {
        running = false;
        for (Thread thread : threads) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        sockets.forEach(UdpSocket::close);
        taps.forEach(TapDevice::close);
        counters.state(AgentState.STOPPED);
    }

    /** For callers that need to wait on a started agent. */
    public void awaitTermination() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join();
        }
    }

    /** Syscall-backed egress for one thread. */
    private record SyscallEgress(Libc libc, UdpSocket.Message message) implements Egress {
        @Override
        public boolean toVm(LocalVm vm, PacketBuffer packet, int index, int length) {
            return vm.tap().write(libc, packet, index, length) == length;
        }

        @Override
        public boolean toUnderlay(LocalVm source, MemorySegment destination, PacketBuffer packet, int index, int length) {
            return source.socket().send(libc, packet, index, length, destination) == length;
        }

        @Override
        public boolean toUnderlaySegmented(LocalVm source, MemorySegment destination, PacketBuffer packet, int index,
                                           int length, int segmentSize) {
            return source.socket().sendSegmented(libc, message, packet, index, length, segmentSize, destination) == length;
        }
    }
}
