package dev.vnet.gateway.path;

import dev.vnet.gateway.config.ForwardingMode;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.AddressRewrite;
import dev.vnet.wire.InternetChecksum;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.VnpHeader;

import java.nio.ByteBuffer;

/**
 * VNP datagrams from VMs' hosts to the gateway, on one thread: checked as a VM's port checks them
 * (well formed, expiry within bounds, token), except that the token is the gateway's: keyed with the
 * network's gateway key over (source host, source port, inner source, inner destination, expiry), and
 * the network is whichever key produces it ({@link NetworkKeys}, successes cached in
 * {@link ValidatedTokens}). Then, decided without per-flow state where the issue asks for none:
 * <ol>
 *   <li>to the probe source: a health-check reply, its source translated to the backend's probe address;</li>
 *   <li>from a DNAT backend's address and one of its VIP's listener ports: a reply, its source
 *       translated to the VIP (stateless, so any gateway can return any flow);</li>
 *   <li>from an unchanged-mode VIP: a reply from a VM that owns the VIP, passed as it is;</li>
 *   <li>anything else is the VM's own egress: source translated to the gateway's public address and a
 *       port of the {@link SnatTable}.</li>
 * </ol>
 * A return token the VM's host sent along (seed 003, FIG. 5) is the ingress token for the reverse
 * direction; {@link IngressTokens#learn} keeps it. Partial checksums (VNP flag C) are completed here,
 * because the public side takes finished packets. Every drop is counted by reason.
 */
public final class UnderlayForwarder {
    private final GatewayContext context;
    private final VnpHeader vnp = new VnpHeader();
    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private final ValidatedTokens validated = new ValidatedTokens(1 << 14);
    private NetworkKeys validatedWith = NetworkKeys.NONE;

    public UnderlayForwarder(GatewayContext context) {
        this.context = context;
    }

    /** Handles one datagram received from {@code sourceHost:sourcePort}. */
    public void fromUnderlay(PacketBuffer packet, int index, int length, int sourceHost, int sourcePort) {
        GatewayCounters counters = context.counters;
        counters.underlayRxPackets.increment();
        ByteBuffer buffer = packet.buffer();
        if (!vnp.wrap(buffer, index, length)) {
            counters.drop(GatewayDrop.MALFORMED_ENCAPSULATION);
            return;
        }
        long now = context.nowSeconds();
        long expiry = vnp.expiry();
        if (expiry != VnpHeader.EXPIRY_NEVER) {
            if (now > expiry + context.clockSkewSeconds()) {
                counters.drop(GatewayDrop.TOKEN_EXPIRED);
                return;
            }
            if (expiry > now + context.maxTokenLifeSeconds() + context.clockSkewSeconds()) {
                counters.drop(GatewayDrop.EXPIRY_TOO_FAR);
                return;
            }
        }
        int inner = vnp.innerOffset();
        if (!ipv4.wrap(buffer, inner, vnp.innerLength())) {
            counters.drop(GatewayDrop.MALFORMED_ENCAPSULATION);
            return;
        }
        int source = ipv4.source();
        int destination = ipv4.destination();
        GatewayTables tables = context.tables();
        // A token names the sending VM by its own address. A backend of an unchanged-mode VIP answers
        // from the VIP, so the token is checked over the VM at the sending (host, port), as the registry
        // told this gateway when it asked for that VM's ingress token, and the VM must serve that VIP.
        VipService sourceVip = tables.vip(source);
        boolean fromUnchangedVip = sourceVip != null && sourceVip.mode() == ForwardingMode.UNCHANGED;
        int sendingVm = source;
        if (fromUnchangedVip) {
            sendingVm = context.tokens.vmAt(sourceHost, sourcePort);
            if (sendingVm == IngressTokens.UNKNOWN_VM || !tables.isUnchangedBackend(source, sendingVm)) {
                counters.drop(GatewayDrop.NOT_A_BACKEND);
                return;
            }
        }
        NetworkKeys keys = context.keys();
        int network = network(keys, sourceHost, sourcePort, sendingVm, destination, vnp.token(), expiry);
        if (network < 0) {
            counters.drop(GatewayDrop.BAD_TOKEN);
            return;
        }
        long networkId = keys.networkId(network);
        if (fromUnchangedVip && networkId != sourceVip.networkId()) {
            counters.drop(GatewayDrop.NOT_A_BACKEND);
            return;
        }
        int protocol = ipv4.protocol();
        int ipLength = ipv4.totalLength();
        boolean partial = (vnp.flags() & VnpHeader.FLAG_CHECKSUM_PARTIAL) != 0;
        boolean ports = AddressRewrite.hasPorts(buffer, inner, ipv4.headerLength(), ipLength);
        int l4 = ipv4.payloadOffset();

        if (vnp.hasReturnToken()) {
            context.tokens.learn(networkId, destination, sendingVm, sourceHost, sourcePort, vnp.returnToken(), vnp.returnExpiry(), now);
        }
        if (destination == context.probeSource) {
            int probe = tables.probeOf(networkId, source);
            if (probe == 0) {
                counters.drop(GatewayDrop.UNKNOWN_DESTINATION);
                return;
            }
            AddressRewrite.sourceAddress(buffer, inner, probe, partial);
            toPublic(packet, inner, ipLength, protocol, partial);
            return;
        }
        if (tables.vip(destination) != null || destination == context.publicAddress
                || (destination & 0xFFFF_0000) == GatewayTables.PROBE_PREFIX) {
            counters.drop(GatewayDrop.NOT_OUTSIDE); // hairpin through a VIP is not supported
            return;
        }
        if (ports) {
            VipService[] services = tables.dnatServicesOf(networkId, source);
            if (services != null) {
                int sourcePortOfVm = AddressRewrite.sourcePort(buffer, l4, protocol);
                for (VipService service : services) {
                    if (service.listens(protocol, sourcePortOfVm)) {
                        AddressRewrite.sourceAddress(buffer, inner, service.address(), partial);
                        counters.dnatReplies.increment();
                        toPublic(packet, inner, ipLength, protocol, partial);
                        return;
                    }
                }
            }
        }
        if (fromUnchangedVip) {
            counters.unchangedReplies.increment();
            toPublic(packet, inner, ipLength, protocol, partial);
            return;
        }
        if (!ports) {
            counters.drop(GatewayDrop.NO_PORTS);
            return;
        }
        int vmPort = AddressRewrite.sourcePort(buffer, l4, protocol);
        int remotePort = protocol == Ipv4Packet.PROTOCOL_ICMP ? 0 : AddressRewrite.destinationPort(buffer, l4, protocol);
        int publicPort = context.snat.outbound(protocol, networkId, source, vmPort, destination, remotePort, (int) now);
        if (publicPort < 0) {
            counters.drop(GatewayDrop.TRANSLATIONS_EXHAUSTED);
            return;
        }
        AddressRewrite.source(buffer, inner, context.publicAddress, publicPort, partial);
        counters.snatOutbound.increment();
        toPublic(packet, inner, ipLength, protocol, partial);
    }

    private int network(NetworkKeys keys, int sourceHost, int sourcePort, int source, int destination, long token, long expiry) {
        if (keys != validatedWith) {
            if (!keys.sameAs(validatedWith)) {
                validated.clear();
            }
            validatedWith = keys;
        }
        int cached = validated.network(sourceHost, sourcePort, source, destination, token, expiry);
        if (cached >= 0) {
            context.counters.tokenCacheHits.increment();
            return cached;
        }
        for (int i = 0; i < keys.size(); i++) {
            context.counters.tokenValidations.increment();
            if (keys.token(i).compute(sourceHost, sourcePort, source, destination, expiry) == token) {
                validated.put(sourceHost, sourcePort, source, destination, token, expiry, i);
                return i;
            }
        }
        return -1;
    }

    private void toPublic(PacketBuffer packet, int index, int ipLength, int protocol, boolean partial) {
        if (partial) {
            int headerLength = (packet.buffer().get(index) & 0x0F) * 4;
            InternetChecksum.completePartial(packet.buffer(), index + headerLength, ipLength - headerLength, protocol);
        }
        if (context.egress.toPublic(packet, index, ipLength)) {
            context.counters.publicTxPackets.increment();
        } else {
            context.counters.drop(GatewayDrop.SEND_FAILED);
        }
    }

}
