package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.Libc;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.TapDevice;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A host's agent: owns the TAPs of the host's VMs and the underlay socket, and forwards between them.
 *
 * <p>Threads: one per TAP (a TAP delivers one frame per blocking read) and one for the underlay socket.
 * Each thread has its own {@link Forwarder}, buffers and syscall state; the only shared state is the
 * immutable {@link ForwardingTable} and the counters, so forwarding takes no lock.
 *
 * <p>Each TAP is created in the agent's own namespace through {@code /dev/net/tun}, given the VM's MAC
 * and MTU, and moved into the VM's namespace; the agent keeps the descriptor, so the VM's NIC lives
 * exactly as long as the agent does.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final int MAX_FRAME = 65536;

    private final String hostName;
    private final Counters counters;
    private final DataplaneCounters dataplaneCounters;
    private final Arena arena = Arena.ofShared();
    private final List<TapDevice> taps = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private Thread underlayReceiver;
    private final int underlayMtu;
    private volatile ForwardingTable table;
    private volatile boolean running = true;
    private UdpSocket socket;

    private Agent(String hostName, Counters counters, int underlayMtu) {
        this.hostName = hostName;
        this.counters = counters;
        this.dataplaneCounters = new DataplaneCounters(counters);
        this.underlayMtu = underlayMtu;
    }

    /**
     * Creates this host's TAPs, moves each into its VM's namespace, binds the underlay socket and starts
     * forwarding. On failure everything created so far is released.
     */
    public static Agent start(Placement placement, String hostName, Counters counters) {
        placement.validate();
        Agent agent = new Agent(hostName, counters, placement.underlayMtu());
        try {
            agent.open(placement);
        } catch (RuntimeException e) {
            agent.close();
            counters.state(AgentState.FAILED);
            throw e;
        }
        counters.state(AgentState.RUNNING);
        return agent;
    }

    private void open(Placement placement) {
        Placement.Host self = placement.host(hostName);
        int selfAddress = Ipv4Address.parse(self.underlayAddress());
        Map<String, RemoteHost> remoteHosts = new HashMap<>();
        for (Placement.Host host : placement.hosts()) {
            int address = Ipv4Address.parse(host.underlayAddress());
            remoteHosts.put(host.name(), new RemoteHost(host.name(), address, placement.underlayPort(),
                    UdpSocket.socketAddress(arena, address, placement.underlayPort())));
        }
        ForwardingTable.Builder builder = ForwardingTable.builder();
        placement.networks().forEach(n -> builder.network((int) n.id(), n.name()));
        for (Placement.Vm vm : placement.vms()) {
            int networkId = (int) placement.network(vm.network()).id();
            long mac = MacAddress.parse(vm.mac());
            int ip = Ipv4Address.parse(vm.ip());
            if (vm.host().equals(hostName)) {
                TapDevice tap = TapDevice.create(vm.tap());
                taps.add(tap);
                DeviceCommands.moveToNamespace(tap.name(), vm.mac(), placement.vmMtu(), vm.namespace());
                builder.local(new VmPort(vm.name(), networkId, mac, ip, tap, counters));
                LOG.info("port {}: TAP {} in namespace {} ({} {})", vm.name(), tap.name(), vm.namespace(), vm.ip(), vm.mac());
            } else {
                builder.remote(new RemoteVm(vm.name(), networkId, mac, ip, remoteHosts.get(vm.host())));
            }
        }
        table = builder.build();
        socket = UdpSocket.bind(selfAddress, placement.underlayPort());
        LOG.info("host {}: underlay {}:{}, {} local ports, {} networks", hostName, self.underlayAddress(),
                placement.underlayPort(), table.localPorts().size(), table.networks().size());
        for (VmPort port : table.localPorts()) {
            threads.add(Thread.ofPlatform().name("port-" + port.vmName()).daemon().start(() -> runPort(port)));
        }
        underlayReceiver = Thread.ofPlatform().name("underlay-rx").daemon().start(this::runUnderlay);
        threads.add(underlayReceiver);
    }

    public ForwardingTable table() {
        return table;
    }

    public DataplaneCounters dataplaneCounters() {
        return dataplaneCounters;
    }

    private Forwarder newForwarder(Libc libc) {
        return new Forwarder(this::table, new SyscallEgress(libc, socket), dataplaneCounters, underlayMtu);
    }

    private void runPort(VmPort port) {
        Libc libc = new Libc();
        Forwarder forwarder = newForwarder(libc);
        PacketBuffer packet = PacketBuffer.allocate(arena, Forwarder.HEADROOM + MAX_FRAME);
        while (running) {
            int n = port.tap().read(libc, packet, Forwarder.HEADROOM, MAX_FRAME);
            if (n >= 0) {
                forwarder.fromVm(port, packet, Forwarder.HEADROOM, n);
            } else if (-n != Libc.EINTR && -n != Libc.EAGAIN) {
                if (running) {
                    LOG.error("port {}: reading its TAP failed: {}; the port stops", port.vmName(), Libc.strerror(-n));
                }
                return;
            }
        }
    }

    private void runUnderlay() {
        Libc libc = new Libc();
        Forwarder forwarder = newForwarder(libc);
        PacketBuffer packet = PacketBuffer.allocate(arena, MAX_FRAME);
        while (running) {
            int n = socket.receive(libc, packet, 0, MAX_FRAME);
            if (n > 0) {
                forwarder.fromUnderlay(packet, 0, n);
            } else if (n == 0) {
                if (socket.isClosed()) {
                    return;
                }
                forwarder.fromUnderlay(packet, 0, 0); // an empty datagram is malformed: counted
            } else if (-n != Libc.EINTR && -n != Libc.EAGAIN) {
                if (running) {
                    LOG.error("underlay receive failed: {}; forwarding from the underlay stops", Libc.strerror(-n));
                }
                return;
            }
        }
    }

    /**
     * Stops forwarding and releases the socket and the TAPs. Threads blocked reading a TAP are daemons:
     * they end with the process (a blocked read on a TAP cannot be interrupted portably).
     */
    @Override
    public void close() {
        running = false;
        if (socket != null) {
            socket.close();
        }
        if (underlayReceiver != null) {
            try {
                underlayReceiver.join(TimeUnit.SECONDS.toMillis(1)); // closing the socket woke it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        taps.forEach(TapDevice::close);
        counters.state(AgentState.STOPPED);
    }

    /** Syscall-backed egress for one thread. */
    private record SyscallEgress(Libc libc, UdpSocket socket) implements Egress {
        @Override
        public boolean toPort(VmPort port, PacketBuffer packet, int index, int length) {
            return port.tap().write(libc, packet, index, length) == length;
        }

        @Override
        public boolean toUnderlay(RemoteHost host, PacketBuffer packet, int index, int length) {
            return socket.send(libc, packet, index, length, host.socketAddress()) == length;
        }
    }

    /** For callers that need to wait on a started agent. */
    public void awaitTermination() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join();
        }
    }

}
