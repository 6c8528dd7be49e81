package dev.vnet.gateway.path;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.gateway.config.ForwardingMode;
import dev.vnet.gateway.hashing.ConsistentMapping;
import dev.vnet.gateway.hashing.FlowHash;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.wire.AddressRewrite;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.TcpSegment;
import dev.vnet.wire.VnpHeader;

import java.nio.ByteBuffer;

/**
 * Packets from the public side (the gateway's TUN device) into the virtual network, on one thread
 * (seed 003, FIG. 7–8: the gateway maps a flow to a healthy VM and tunnels the packet to it).
 *
 * <h2>To a VIP</h2>
 * The packet must hit a listener (protocol and port). Its flow, as the VIP's flow identity defines it
 * (5-tuple by default; 3-tuple or 2-tuple), is looked up in this gateway's {@link FlowTable}; a flow
 * pinned to a backend that is still healthy stays there. Otherwise the consistent mapping over the
 * healthy backends picks one from the flow's hash and the flow is pinned to it. DNAT rewrites the
 * destination to the backend's private address; unchanged mode leaves the packet as it is (the VM owns
 * the VIP). The packet then goes into the VNP tunnel with an ingress token for (network, client,
 * backend) ({@link IngressTokens}). A new flow's first packet also carries a return token (seed 003,
 * FIG. 5) keyed with the network's gateway key, so the VM's host sends the replies straight back to a
 * gateway without asking the registry; any gateway of the network verifies it.
 *
 * <h2>To the public address</h2>
 * Replies to egress translations ({@link SnatTable}) are translated back to the VM and tunnelled.
 *
 * <h2>To a probe address</h2>
 * The health checker's own packets ({@link GatewayTables}): translated to the backend and tunnelled,
 * with a return token, so the VM answers this gateway.
 *
 * <p>The IPv4 packet must start {@link #HEADROOM} bytes into its buffer (the VNP header goes there)
 * and have {@link VnpHeader#RETURN_TOKEN_OPTION_LENGTH} bytes free after it. Nothing here allocates
 * when the flow's token is cached.
 */
public final class PublicForwarder implements IngressTokens.Sender {
    public static final int HEADROOM = VnpHeader.LENGTH;
    private static final int UDP_IPV4_OVERHEAD = 28;

    private final GatewayContext context;
    private final FlowTable flows;
    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private final int maxDatagram;

    public PublicForwarder(GatewayContext context, int flowCapacity) {
        this.context = context;
        this.flows = new FlowTable(flowCapacity);
        this.maxDatagram = context.underlayMtu - UDP_IPV4_OVERHEAD;
    }

    /** Handles one IPv4 packet read from the public side at {@code index}. */
    public void fromPublic(PacketBuffer packet, int index, int length) {
        GatewayCounters counters = context.counters;
        counters.publicRxPackets.increment();
        ByteBuffer buffer = packet.buffer();
        if (!ipv4.wrap(buffer, index, length)) {
            counters.drop(GatewayDrop.MALFORMED_PUBLIC);
            return;
        }
        GatewayTables tables = context.tables();
        int destination = ipv4.destination();
        VipService vip = tables.vip(destination);
        if (vip != null) {
            toBackend(vip, packet, index);
        } else if (destination == context.publicAddress) {
            translationReply(packet, index);
        } else if ((destination & 0xFFFF_0000) == GatewayTables.PROBE_PREFIX) {
            probe(tables, packet, index);
        } else {
            counters.drop(GatewayDrop.UNKNOWN_DESTINATION);
        }
    }

    private void toBackend(VipService vip, PacketBuffer packet, int index) {
        ByteBuffer buffer = packet.buffer();
        int protocol = ipv4.protocol();
        if (protocol != Ipv4Packet.PROTOCOL_TCP && protocol != Ipv4Packet.PROTOCOL_UDP) {
            context.counters.drop(GatewayDrop.NO_LISTENER);
            return;
        }
        int ipLength = ipv4.totalLength();
        if (!AddressRewrite.hasPorts(buffer, index, ipv4.headerLength(), ipLength)) {
            context.counters.drop(GatewayDrop.NO_PORTS);
            return;
        }
        int l4 = ipv4.payloadOffset();
        int clientPort = AddressRewrite.sourcePort(buffer, l4, protocol);
        int vipPort = AddressRewrite.destinationPort(buffer, l4, protocol);
        if (!vip.listens(protocol, vipPort)) {
            context.counters.drop(GatewayDrop.NO_LISTENER);
            return;
        }
        int client = ipv4.source();
        FlowIdentity identity = vip.identity();
        long addressKey = FlowTable.addressKey(client, vip.address());
        long portKey = switch (identity) {
            case FIVE_TUPLE -> FlowTable.portKey(protocol, clientPort, vipPort);
            case THREE_TUPLE -> FlowTable.portKey(protocol, 0, 0);
            case TWO_TUPLE -> FlowTable.portKey(0, 0, 0);
        };
        long now = context.nowSeconds();
        int second = (int) now;
        // A TCP SYN opens a new connection: a pin left by an earlier connection of the same 5-tuple (the
        // client reused its port) is stale, so the mapping decides afresh, as every other gateway that
        // never saw the earlier connection would (Katran skips its flow cache for SYNs for this reason).
        int tcpFlags = tcpFlags(buffer, l4, protocol, ipLength - ipv4.headerLength());
        boolean opening = identity == FlowIdentity.FIVE_TUPLE && (tcpFlags & (TcpSegment.SYN | TcpSegment.ACK)) == TcpSegment.SYN;
        int backend = opening ? -1 : flows.lookup(addressKey, portKey, vip.generation(), second, vip.idleTimeoutSeconds());
        boolean fresh = false;
        if (backend >= 0 && !vip.isHealthy(backend)) {
            context.counters.remappedFlows.increment();
            backend = -1;
        }
        if (backend < 0) {
            long hash = FlowHash.ipv4(identity, vip.hashSeed(), client, vip.address(), protocol, clientPort, vipPort);
            backend = vip.backendFor(hash);
            if (backend == ConsistentMapping.NONE) {
                context.counters.drop(GatewayDrop.NO_HEALTHY_BACKEND);
                return;
            }
            if (!flows.pin(addressKey, portKey, vip.generation(), backend, second, vip.idleTimeoutSeconds())) {
                context.counters.flowTableFull.increment();
            }
            context.counters.newFlows.increment();
            fresh = true;
        }
        if (identity == FlowIdentity.FIVE_TUPLE && (tcpFlags & (TcpSegment.FIN | TcpSegment.RST)) != 0) {
            flows.closing(addressKey, portKey, second);
        }
        Backend target = vip.backend(backend);
        if (vip.mode() == ForwardingMode.DNAT) {
            AddressRewrite.destinationAddress(buffer, index, target.address(), false);
        }
        toVm(target.networkId(), client, target.address(), packet, index, ipLength, fresh, now);
    }

    /** The TCP flags of a TCP packet with room for them, else 0. */
    private static int tcpFlags(ByteBuffer buffer, int l4, int protocol, int l4Length) {
        if (protocol != Ipv4Packet.PROTOCOL_TCP || l4Length < TcpSegment.FLAGS_OFFSET + 1) {
            return 0;
        }
        return buffer.get(l4 + TcpSegment.FLAGS_OFFSET) & 0xFF;
    }

    private void translationReply(PacketBuffer packet, int index) {
        ByteBuffer buffer = packet.buffer();
        int protocol = ipv4.protocol();
        int ipLength = ipv4.totalLength();
        if (!AddressRewrite.hasPorts(buffer, index, ipv4.headerLength(), ipLength)) {
            context.counters.drop(GatewayDrop.NO_PORTS);
            return;
        }
        int l4 = ipv4.payloadOffset();
        int remote = ipv4.source();
        int remotePort = protocol == Ipv4Packet.PROTOCOL_ICMP ? 0 : AddressRewrite.sourcePort(buffer, l4, protocol);
        int publicPort = AddressRewrite.destinationPort(buffer, l4, protocol);
        long now = context.nowSeconds();
        SnatTable snat = context.snat;
        long networkId;
        int vm;
        int vmPort;
        synchronized (snat) {
            if (!snat.inbound(protocol, publicPort, remote, remotePort, (int) now)) {
                context.counters.drop(GatewayDrop.NO_TRANSLATION);
                return;
            }
            networkId = snat.foundNetwork();
            vm = snat.foundVmAddress();
            vmPort = snat.foundVmPort();
        }
        AddressRewrite.destination(buffer, index, vm, vmPort, false);
        context.counters.snatInbound.increment();
        toVm(networkId, remote, vm, packet, index, ipLength, false, now);
    }

    private void probe(GatewayTables tables, PacketBuffer packet, int index) {
        long backend = tables.backendOfProbe(ipv4.destination());
        if (backend < 0) {
            context.counters.drop(GatewayDrop.UNKNOWN_DESTINATION);
            return;
        }
        int vm = (int) backend;
        long networkId = backend >>> 32;
        int ipLength = ipv4.totalLength();
        AddressRewrite.destinationAddress(packet.buffer(), index, vm, false);
        context.counters.probePackets.increment();
        toVm(networkId, ipv4.source(), vm, packet, index, ipLength, true, context.nowSeconds());
    }

    private void toVm(long networkId, int source, int vm, PacketBuffer packet, int index, int ipLength, boolean returnToken,
                      long now) {
        if (VnpHeader.LENGTH + ipLength > maxDatagram) {
            context.counters.drop(GatewayDrop.TOO_BIG);
            return;
        }
        IngressTokens.Grant grant = context.tokens.get(networkId, source, vm, now);
        if (grant == null) {
            context.tokens.await(networkId, source, vm, packet, index, ipLength, returnToken, now, this);
            return;
        }
        sendQueued(grant, packet, index, ipLength, returnToken);
    }

    /** Tunnels one packet with {@code grant}; also the completion path for packets that waited for it. */
    @Override
    public void sendQueued(IngressTokens.Grant grant, PacketBuffer packet, int index, int ipLength, boolean returnToken) {
        ByteBuffer buffer = packet.buffer();
        int datagram = VnpHeader.LENGTH + ipLength;
        int flags = 0;
        if (returnToken && datagram + VnpHeader.RETURN_TOKEN_OPTION_LENGTH <= maxDatagram) {
            NetworkKeys keys = context.keys();
            int network = keys.indexOf(grant.networkId);
            if (network >= 0) {
                // Over the VM's own address even when it will answer from an unchanged-mode VIP: a token
                // names the VM, not each address it owns (see UnderlayForwarder).
                long token = keys.token(network).compute(grant.hostAddress, grant.port, grant.destination, grant.source, grant.expiry);
                datagram += VnpHeader.writeReturnToken(buffer, index + ipLength, token, grant.expiry);
                flags |= VnpHeader.FLAG_OPTIONS;
            }
        }
        int start = index - VnpHeader.LENGTH;
        VnpHeader.write(buffer, start, grant.token, grant.expiry, flags);
        if (context.egress.toUnderlay(packet, start, datagram, grant.socketAddress)) {
            context.counters.underlayTxPackets.increment();
        } else {
            context.counters.drop(GatewayDrop.SEND_FAILED);
        }
    }

    /** Pinned flows alive now (a scan; for tests and the counters file). */
    public int liveFlows() {
        return flows.live((int) context.nowSeconds());
    }
}
