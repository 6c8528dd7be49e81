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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
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

    /** What the agent holds for one VM; its threads run while {@code active}. */
    private static final class RunningVm {
        final AgentConfig.Vm spec;
        final LocalVm vm;
        final List<Thread> threads = new ArrayList<>(2);
        /** The VM's native buffers, freed when it is removed. */
        final Arena arena = Arena.ofShared();
        volatile boolean active = true;

        RunningVm(AgentConfig.Vm spec, LocalVm vm) {
            this.spec = spec;
            this.vm = vm;
        }
    }

    private final AgentConfig config;
    private final TokenSource tokens;
    private final EpochClock clock;
    private final Counters counters;
    private final DataplaneCounters dataplaneCounters;
    private final LocalVms locals = new LocalVms();
    private final Map<String, RunningVm> vms = new LinkedHashMap<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean running = true;

    private Agent(AgentConfig config, TokenSource tokens, Counters counters, EpochClock clock) {
        this.config = config;
        this.tokens = tokens;
        this.clock = clock;
        this.counters = counters;
        this.dataplaneCounters = new DataplaneCounters(counters);
    }

    /**
     * Creates the TAPs and ports of the VMs in {@code config}, moves each TAP into its VM's namespace, and
     * starts forwarding; more VMs can be added and removed later ({@link #addVm}, {@link #removeVm}). On
     * failure everything created so far is released.
     */
    public static Agent start(AgentConfig config, TokenSource tokens, Counters counters, EpochClock clock) {
        Agent agent = new Agent(config, tokens, counters, clock);
        try {
            config.vms().forEach(agent::addVm);
        } catch (RuntimeException e) {
            agent.close();
            counters.state(AgentState.FAILED);
            throw e;
        }
        counters.state(AgentState.RUNNING);
        LOG.info("host {}: underlay {}, {} VMs, offloads {}, busy-poll {} µs", config.host(), config.underlayAddress(),
                config.vms().size(), config.offloads() ? "on (TSO, checksum, UDP GSO/GRO)" : "off", config.busyPollMicros());
        return agent;
    }

    /** The VMs this agent serves now, by name. */
    public synchronized List<AgentConfig.Vm> vms() {
        return vms.values().stream().map(v -> v.spec).toList();
    }

    /**
     * Starts serving a VM: its TAP (created here, moved into the VM's namespace), its UDP port and its two
     * forwarding threads. The same spec again changes nothing; a VM of that name with another spec is
     * refused (remove it first). On failure what was created for it is released.
     */
    public synchronized void addVm(AgentConfig.Vm spec) {
        if (!running) {
            throw new IllegalStateException("the agent is closed");
        }
        RunningVm existing = vms.get(spec.name());
        if (existing != null) {
            if (existing.spec.equals(spec)) {
                return;
            }
            throw new IllegalArgumentException("vm " + spec.name() + " already runs here with another configuration");
        }
        int underlay = Ipv4Address.parse(config.underlayAddress());
        int vmMtu = OutboundForwarder.vmMtu(config.underlayMtu());
        TapDevice tap = null;
        UdpSocket socket = null;
        try {
            tap = TapDevice.create(spec.tap(), config.offloads());
            DeviceCommands.moveToNamespace(tap.name(), spec.mac(), vmMtu, spec.namespace());
            socket = UdpSocket.bind(underlay, spec.port());
            if (config.offloads()) {
                socket.enableGro();
            }
            LocalVm vm = new LocalVm(spec.name(), (int) spec.networkId(), Ipv4Address.parse(spec.address()),
                    spec.prefixLength(), MacAddress.parse(spec.mac()), spec.port(), spec.keyBytes(), tap, socket, counters);
            locals.add(vm);
            RunningVm runningVm = new RunningVm(spec, vm);
            startThreads(runningVm);
            vms.put(spec.name(), runningVm);
            LOG.info("vm {}: TAP {} in {}, {} {} port {}", spec.name(), tap.name(), spec.namespace(), spec.address(),
                    spec.mac(), spec.port());
        } catch (RuntimeException e) {
            if (socket != null) {
                socket.close();
            }
            if (tap != null) {
                tap.close();
            }
            throw e;
        }
    }

    /**
     * Stops serving a VM: its threads end (within one poll timeout), then its port and TAP are closed, which
     * removes the VM's NIC. Returns false if no VM of that name runs here.
     */
    public synchronized boolean removeVm(String name) {
        RunningVm runningVm = vms.remove(name);
        if (runningVm == null) {
            return false;
        }
        locals.remove(runningVm.vm);
        stop(List.of(runningVm));
        LOG.info("vm {}: removed", name);
        return true;
    }

    /**
     * Replaces the further addresses the VM named {@code name} owns besides its own (allowed address pairs,
     * e.g. a load balancer VIP): it may send from them and is given packets to them, at once and without
     * touching its TAP, port or pairs. Returns false if no VM of that name runs here.
     */
    public synchronized boolean setAdditionalAddresses(String name, int[] addresses) {
        RunningVm runningVm = vms.get(name);
        if (runningVm == null) {
            return false;
        }
        runningVm.vm.setAdditionalAddresses(addresses);
        LOG.info("vm {}: additional addresses {}", name, java.util.Arrays.stream(runningVm.vm.additionalAddresses())
                .mapToObj(Ipv4Address::toString).toList());
        return true;
    }

    private void startThreads(RunningVm runningVm) {
        LocalVm vm = runningVm.vm;
        Arena arena = runningVm.arena;
        Libc tapLibc = new Libc();
        OutboundForwarder outbound = new OutboundForwarder(vm, locals, tokens, new SyscallEgress(tapLibc, new UdpSocket.Message(arena)),
                () -> new SyscallEgress(new Libc(), new UdpSocket.Message(Arena.ofAuto())), dataplaneCounters, clock,
                config.underlayMtu());
        Libc portLibc = new Libc();
        InboundForwarder inbound = new InboundForwarder(vm, outbound, new SyscallEgress(portLibc, new UdpSocket.Message(arena)),
                dataplaneCounters, clock, config.skewSeconds(), config.maxTtlSeconds());
        vm.tap().nonBlocking(tapLibc);
        long spinNanos = TimeUnit.MICROSECONDS.toNanos(config.busyPollMicros());
        Pump fromTap = new TapPump(vm, tapLibc, outbound, arena);
        Pump fromPort = new PortPump(vm, portLibc, inbound, arena);
        ReadinessWait tapWait = new ReadinessWait(tapLibc, spinNanos, arena, vm.tap().fd());
        ReadinessWait portWait = new ReadinessWait(portLibc, spinNanos, arena, vm.socket().fd());
        runningVm.threads.add(Thread.ofPlatform().name("tap-" + vm.name()).daemon().start(() -> pump(runningVm, tapWait, fromTap)));
        runningVm.threads.add(Thread.ofPlatform().name("port-" + vm.name()).daemon().start(() -> pump(runningVm, portWait, fromPort)));
    }

    /** Ends the VMs' threads, then closes their descriptors, so no thread reads a reused descriptor number. */
    private static void stop(List<RunningVm> stopping) {
        stopping.forEach(v -> v.active = false);
        for (RunningVm runningVm : stopping) {
            for (Thread thread : runningVm.threads) {
                try {
                    thread.join(TimeUnit.SECONDS.toMillis(2));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        for (RunningVm runningVm : stopping) {
            runningVm.vm.socket().close();
            runningVm.vm.tap().close();
            runningVm.arena.close();
        }
    }

    /** Runs {@code pump} until it stops or the agent closes, waiting on {@code wait} when it found nothing. */
    private void pump(RunningVm runningVm, ReadinessWait wait, Pump pump) {
        while (runningVm.active) {
            int result = pump.pumpOnce();
            if (result == Pump.STOP) {
                return;
            }
            if (result == Pump.WORKED) {
                wait.activity();
            } else if (!wait.idle()) {
                if (runningVm.active) {
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
        private final PacketBuffer packet;
        // With offloads the virtio header lands just before the frame, where the forwarder expects it.
        private final int header;

        TapPump(LocalVm vm, Libc libc, OutboundForwarder forwarder, Arena arena) {
            this.packet = PacketBuffer.allocate(arena, OutboundForwarder.HEADROOM + MAX_FRAME);
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
        private final PacketBuffer packet;
        private final UdpSocket.Message message;

        PortPump(LocalVm vm, Libc libc, InboundForwarder forwarder, Arena arena) {
            this.packet = PacketBuffer.allocate(arena, InboundForwarder.HEADROOM + MAX_FRAME);
            this.message = new UdpSocket.Message(arena);
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
        List<RunningVm> stopping;
        synchronized (this) {
            running = false;
            stopping = new ArrayList<>(vms.values());
            vms.clear();
        }
        stop(stopping);
        counters.state(AgentState.STOPPED);
        closed.countDown();
    }

    /** Returns once the agent has been closed. */
    public void awaitTermination() throws InterruptedException {
        closed.await();
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
