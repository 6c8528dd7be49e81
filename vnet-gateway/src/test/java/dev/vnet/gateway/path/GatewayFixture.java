package dev.vnet.gateway.path;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.gateway.config.ForwardingMode;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.gateway.hashing.MappingSpec;
import dev.vnet.wire.InternetChecksum;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.VnpHeader;
import dev.vnet.wire.VnpToken;
import org.agrona.concurrent.EpochClock;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gateway without sockets: an in-memory registry that issues ingress tokens with the VMs' keys, an
 * egress that records what leaves, a settable clock. Packets are built here byte by byte.
 */
final class GatewayFixture {
    static final long NETWORK = 7;
    static final int GATEWAY_HOST = Ipv4Address.parse("10.255.0.21");
    static final int GATEWAY_PORT = 4790;
    static final int PUBLIC_ADDRESS = Ipv4Address.parse("198.18.0.21");
    static final int PROBE_SOURCE = GATEWAY_HOST;
    static final int VIP = Ipv4Address.parse("198.51.100.10");
    static final int CLIENT = Ipv4Address.parse("198.51.100.2");
    static final byte[] NETWORK_KEY = key(1);

    /** A backend VM with its key and where its host receives for it. */
    record Vm(String name, int address, int host, int port, byte[] key) {
        Backend backend(String location) {
            return new Backend(name, NETWORK, address, location);
        }
    }

    static final List<Vm> VMS = List.of(
            new Vm("vm1", Ipv4Address.parse("10.0.0.2"), Ipv4Address.parse("10.255.0.1"), 5001, key(11)),
            new Vm("vm2", Ipv4Address.parse("10.0.0.3"), Ipv4Address.parse("10.255.0.2"), 5002, key(12)),
            new Vm("vm3", Ipv4Address.parse("10.0.0.4"), Ipv4Address.parse("10.255.0.3"), 5003, key(13)));

    /** A datagram or packet that left, copied. */
    record Sent(byte[] bytes, int toHost, int toPort) {
        ByteBuffer buffer() {
            return ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        }
    }

    final List<Sent> underlay = new ArrayList<>();
    final List<Sent> published = new ArrayList<>();
    final AtomicInteger tokenRequests = new AtomicInteger();
    final long[] nowMillis = {1_800_000_000_000L};
    final GatewayCounters counters = new GatewayCounters();
    final GatewayContext context;
    final PublicForwarder publicSide;
    final UnderlayForwarder underlaySide;
    boolean refuse;

    GatewayFixture() {
        EpochClock clock = () -> nowMillis[0];
        IngressTokenSource registry = (networkId, source, destination) -> {
            tokenRequests.incrementAndGet();
            Vm vm = VMS.stream().filter(v -> v.address == destination).findFirst().orElse(null);
            if (refuse || vm == null || networkId != NETWORK) {
                return CompletableFuture.failedFuture(new IngressTokenSource.IngressRefusedException("no such vm"));
            }
            long expiry = nowMillis[0] / 1000 + 600;
            long token = new VnpToken(vm.key).compute(GATEWAY_HOST, GATEWAY_PORT, source, destination, expiry);
            return CompletableFuture.completedFuture(new IngressTokenSource.IngressGrant(vm.host, vm.port, token, expiry));
        };
        GatewayEgress egress = new GatewayEgress() {
            @Override
            public boolean toUnderlay(PacketBuffer packet, int index, int length, MemorySegment socketAddress) {
                int port = ((socketAddress.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 2) & 0xFF) << 8)
                        | (socketAddress.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 3) & 0xFF);
                int host = socketAddress.get(java.lang.foreign.ValueLayout.JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN), 4);
                underlay.add(new Sent(copy(packet, index, length), host, port));
                return true;
            }

            @Override
            public boolean toPublic(PacketBuffer packet, int index, int length) {
                published.add(new Sent(copy(packet, index, length), 0, 0));
                return true;
            }
        };
        context = new GatewayContext(PUBLIC_ADDRESS, PROBE_SOURCE, 1500, registry, counters, egress, clock);
        context.keys(new NetworkKeys(new long[]{NETWORK}, new String[]{"blue"}, new byte[][]{NETWORK_KEY}));
        context.tokenRules(3600, 30);
        publicSide = new PublicForwarder(context, 1 << 12);
        underlaySide = new UnderlayForwarder(context);
    }

    static byte[] key(int seed) {
        byte[] key = new byte[32];
        Arrays.fill(key, (byte) seed);
        return key;
    }

    static VipService vip(ForwardingMode mode, MappingSpec table, FlowIdentity identity, int generation, String gatewayLocation,
                          boolean locality, List<Backend> backends) {
        return new VipService("web", NETWORK, VIP, new int[]{80}, new int[]{53}, mode, identity, table, locality, 300,
                backends, gatewayLocation, generation, true);
    }

    static List<Backend> backends() {
        return VMS.stream().map(vm -> vm.backend("")).toList();
    }

    void serve(VipService... services) {
        context.tables(new GatewayTables(List.of(services)));
    }

    long now() {
        return nowMillis[0] / 1000;
    }

    private static byte[] copy(PacketBuffer packet, int index, int length) {
        byte[] bytes = new byte[length];
        packet.buffer().get(index, bytes);
        return bytes;
    }

    /** A TCP or UDP packet with correct checksums, placed after {@link PublicForwarder#HEADROOM} bytes. */
    static PacketBuffer packet(int protocol, int source, int sourcePort, int destination, int destinationPort, int payload) {
        int l4Length = (protocol == Ipv4Packet.PROTOCOL_TCP ? 20 : 8) + payload;
        PacketBuffer packet = PacketBuffer.allocate(2048);
        ByteBuffer b = packet.buffer();
        int ip = PublicForwarder.HEADROOM;
        Ipv4Packet.writeHeader(b, ip, 20 + l4Length, 1, 64, protocol, source, destination);
        int l4 = ip + 20;
        b.putShort(l4, (short) sourcePort);
        b.putShort(l4 + 2, (short) destinationPort);
        if (protocol == Ipv4Packet.PROTOCOL_TCP) {
            b.putInt(l4 + 4, 1000);
            b.put(l4 + 12, (byte) 0x50);
            b.put(l4 + 13, (byte) 0x10); // ACK: a packet of an open connection; see synPacket
        } else {
            b.putShort(l4 + 4, (short) l4Length);
        }
        for (int i = 0; i < payload; i++) {
            b.put(l4 + l4Length - payload + i, (byte) i);
        }
        int at = l4 + (protocol == Ipv4Packet.PROTOCOL_TCP ? 16 : 6);
        int pseudo = InternetChecksum.pseudoHeaderSumIpv4(source, destination, protocol, l4Length);
        b.putShort(at, (short) InternetChecksum.fold(pseudo + InternetChecksum.sum(b, l4, l4Length)));
        return packet;
    }

    /** A TCP SYN (a connection's first packet) like {@link #packet}. */
    static PacketBuffer synPacket(int source, int sourcePort, int destination, int destinationPort) {
        PacketBuffer packet = packet(Ipv4Packet.PROTOCOL_TCP, source, sourcePort, destination, destinationPort, 0);
        ByteBuffer b = packet.buffer();
        int l4 = PublicForwarder.HEADROOM + 20;
        b.put(l4 + 13, (byte) 0x02);
        int checksum = l4 + 16;
        b.putShort(checksum, (short) 0);
        int pseudo = InternetChecksum.pseudoHeaderSumIpv4(source, destination, Ipv4Packet.PROTOCOL_TCP, 20);
        b.putShort(checksum, (short) InternetChecksum.fold(pseudo + InternetChecksum.sum(b, l4, 20)));
        return packet;
    }

    static int ipLength(PacketBuffer packet) {
        return packet.buffer().getShort(PublicForwarder.HEADROOM + 2) & 0xFFFF;
    }

    void fromPublic(PacketBuffer packet) {
        publicSide.fromPublic(packet, PublicForwarder.HEADROOM, ipLength(packet));
    }

    /** Sends {@code inner} (an IPv4 packet built by {@link #packet}) to the gateway from a VM's host with {@code token}. */
    void fromVm(Vm vm, PacketBuffer inner, long token, long expiry, Long returnToken) {
        int length = ipLength(inner);
        ByteBuffer b = inner.buffer();
        int datagram = VnpHeader.LENGTH + length;
        int flags = 0;
        if (returnToken != null) {
            datagram += VnpHeader.writeReturnToken(b, PublicForwarder.HEADROOM + length, returnToken, expiry);
            flags = VnpHeader.FLAG_OPTIONS;
        }
        VnpHeader.write(b, 0, token, expiry, flags);
        underlaySide.fromUnderlay(inner, 0, datagram, vm.host, vm.port);
    }

    /**
     * Installs an ingress grant for every VM, as the health checks' first probes make the registry give
     * every gateway one, so the gateway knows which VM each (host, port) is.
     */
    void knowWhereVmsAre() {
        for (Vm vm : VMS) {
            long expiry = now() + 600;
            long token = new VnpToken(vm.key).compute(GATEWAY_HOST, GATEWAY_PORT, PROBE_SOURCE, vm.address, expiry);
            context.tokens.install(new IngressTokens.Grant(NETWORK, PROBE_SOURCE, vm.address,
                    new IngressTokenSource.IngressGrant(vm.host, vm.port, token, expiry), now()));
        }
    }

    /** The token a VM's host gets from the registry for an outside destination: the network's gateway key. */
    long gatewayToken(Vm vm, int source, int destination, long expiry) {
        return new VnpToken(NETWORK_KEY).compute(vm.host, vm.port, source, destination, expiry);
    }

    static boolean checksumsValid(ByteBuffer b, int ip) {
        int headerLength = (b.get(ip) & 0x0F) * 4;
        int total = b.getShort(ip + 2) & 0xFFFF;
        int protocol = b.get(ip + 9) & 0xFF;
        int pseudo = InternetChecksum.pseudoHeaderSumIpv4(b.getInt(ip + 12), b.getInt(ip + 16), protocol, total - headerLength);
        return InternetChecksum.verifies(b, ip, headerLength, 0)
                && InternetChecksum.verifies(b, ip + headerLength, total - headerLength, protocol == 1 ? 0 : pseudo);
    }
}
