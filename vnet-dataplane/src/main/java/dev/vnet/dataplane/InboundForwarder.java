package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.VnpHeader;
import dev.vnet.wire.VnpToken;
import org.agrona.concurrent.EpochClock;

import java.nio.ByteBuffer;

/**
 * VNP datagrams arriving at the port reserved for one local VM, on that VM's receiving thread
 * (seed 003, FIG. 6), with no call to the registry:
 * <ol>
 *   <li>the datagram must be a well-formed VNP packet with an IPv4 packet inside;</li>
 *   <li>the expiry must not have passed, allowing {@code skew} seconds of clock difference between
 *       hosts, nor lie further ahead than any token the registry issues (TTL + skew);</li>
 *   <li>the inner destination must be the VM this port is reserved for;</li>
 *   <li>the token must equal HMAC(destination VM's key; source host, source port, source VM,
 *       destination VM, expiry), the source host and port taken from the outer header as received.
 *       A success is cached per (source host, source port, source VM, token, expiry), so a pair's
 *       later packets cost a lookup, not an HMAC.</li>
 * </ol>
 * Then the inner packet is delivered to the TAP behind a new Ethernet header written in place over
 * the VNP header (no copy), and a return token in the options is handed to the VM's outbound side.
 * Every drop is counted by reason. Nothing here allocates.
 */
public final class InboundForwarder {
    private final LocalVm vm;
    private final OutboundForwarder outbound;
    private final Egress egress;
    private final DataplaneCounters counters;
    private final EpochClock clock;
    private final long skewSeconds;
    private final long maxTtlSeconds;
    private final VnpToken mac;
    private final ValidationCache validated = new ValidationCache(4096);
    private final VnpHeader vnp = new VnpHeader();
    private final Ipv4Packet ipv4 = new Ipv4Packet();

    public InboundForwarder(LocalVm vm, OutboundForwarder outbound, Egress egress, DataplaneCounters counters,
                            EpochClock clock, long skewSeconds, long maxTtlSeconds) {
        this.vm = vm;
        this.outbound = outbound;
        this.egress = egress;
        this.counters = counters;
        this.clock = clock;
        this.skewSeconds = skewSeconds;
        this.maxTtlSeconds = maxTtlSeconds;
        this.mac = new VnpToken(vm.key());
    }

    /** Handles one datagram received on the VM's port from {@code sourceHost:sourcePort}. */
    public void fromUnderlay(PacketBuffer packet, int index, int length, int sourceHost, int sourcePort) {
        counters.underlayRxPackets.increment();
        counters.underlayRxBytes.add(length);
        ByteBuffer buffer = packet.buffer();
        if (!vnp.wrap(buffer, index, length)) {
            counters.drop(DropReason.MALFORMED_ENCAPSULATION);
            return;
        }
        long expiry = vnp.expiry();
        if (expiry != VnpHeader.EXPIRY_NEVER) {
            long now = clock.time() / 1000;
            if (now > expiry + skewSeconds) {
                counters.drop(DropReason.TOKEN_EXPIRED);
                return;
            }
            if (expiry > now + maxTtlSeconds + skewSeconds) {
                counters.drop(DropReason.EXPIRY_TOO_FAR);
                return;
            }
        }
        if (!ipv4.wrap(buffer, vnp.innerOffset(), vnp.innerLength())) {
            counters.drop(DropReason.MALFORMED_ENCAPSULATION);
            return;
        }
        if (ipv4.destination() != vm.address()) {
            counters.drop(DropReason.WRONG_DESTINATION);
            return;
        }
        int sourceVm = ipv4.source();
        long token = vnp.token();
        if (validated.contains(sourceHost, sourcePort, sourceVm, token, expiry)) {
            counters.tokenCacheHits.increment();
        } else {
            counters.tokenValidations.increment();
            if (mac.compute(sourceHost, sourcePort, sourceVm, vm.address(), expiry) != token) {
                counters.drop(DropReason.BAD_TOKEN);
                return;
            }
            validated.put(sourceHost, sourcePort, sourceVm, token, expiry);
        }
        if (vnp.hasReturnToken()) {
            outbound.learnReturnToken(sourceVm, sourceHost, sourcePort, vnp.returnToken(), vnp.returnExpiry());
        }
        int frameIndex = vnp.innerOffset() - EthernetFrame.HEADER_LENGTH;
        int frameLength = EthernetFrame.HEADER_LENGTH + vnp.innerLength();
        EthernetFrame.writeHeader(buffer, frameIndex, vm.mac(), OutboundForwarder.GATEWAY_MAC, EthernetFrame.ETHER_TYPE_IPV4);
        if (egress.toVm(vm, packet, frameIndex, frameLength)) {
            vm.txPackets.increment();
            vm.txBytes.add(frameLength);
        } else {
            counters.drop(DropReason.PORT_WRITE_FAILED);
        }
    }
}
