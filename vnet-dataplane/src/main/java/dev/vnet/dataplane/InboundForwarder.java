package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.InternetChecksum;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.TcpCoalescer;
import dev.vnet.wire.VirtioNetHeader;
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
 * Then the inner packet goes to the TAP behind a new Ethernet header written in place over the VNP
 * header (no copy), and a return token in the options is handed to the VM's outbound side.
 *
 * <h2>Offloads</h2>
 * With {@code UDP_GRO} the kernel hands over a run of same-size datagrams from one sender in one
 * buffer; each is checked as above, on its own. With a TAP that carries {@code virtio_net_hdr}s,
 * consecutive TCP segments whose checksum is still partial are joined by a {@link TcpCoalescer} into
 * one super-frame (one {@code write} for up to 64 KB); anything else goes alone, marked
 * {@code NEEDS_CSUM} when its checksum is partial. A TAP without headers cannot take a partial
 * checksum, so then it is completed here (the only case where payload bytes are summed).
 * Every drop is counted by reason. Nothing here allocates.
 */
public final class InboundForwarder {
    /** Bytes a caller must leave before a received batch: room for a virtio and an Ethernet header. */
    public static final int HEADROOM = VirtioNetHeader.LENGTH + EthernetFrame.HEADER_LENGTH - VnpHeader.LENGTH;

    private final LocalVm vm;
    private final OutboundForwarder outbound;
    private final Egress egress;
    private final DataplaneCounters counters;
    private final EpochClock clock;
    private final long skewSeconds;
    private final long maxTtlSeconds;
    private final boolean offloads;
    private final VnpToken mac;
    private final ValidationCache validated = new ValidationCache(4096);
    private final VnpHeader vnp = new VnpHeader();
    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private final PacketBuffer coalesced;
    private final TcpCoalescer coalescer;

    public InboundForwarder(LocalVm vm, OutboundForwarder outbound, Egress egress, DataplaneCounters counters,
                            EpochClock clock, long skewSeconds, long maxTtlSeconds) {
        this.vm = vm;
        this.outbound = outbound;
        this.egress = egress;
        this.counters = counters;
        this.clock = clock;
        this.skewSeconds = skewSeconds;
        this.maxTtlSeconds = maxTtlSeconds;
        this.offloads = vm.offloads();
        this.mac = new VnpToken(vm.key());
        this.coalesced = offloads ? PacketBuffer.allocate(VirtioNetHeader.LENGTH + EthernetFrame.HEADER_LENGTH + 65536) : null;
        this.coalescer = offloads ? new TcpCoalescer(coalesced.buffer()) : null;
    }

    /** Handles one datagram received on the VM's port from {@code sourceHost:sourcePort}. */
    public void fromUnderlay(PacketBuffer packet, int index, int length, int sourceHost, int sourcePort) {
        fromUnderlayBatch(packet, index, length, length, sourceHost, sourcePort);
    }

    /**
     * Handles a run of datagrams of {@code segmentSize} bytes each (the last may be shorter) from one
     * sender, as one {@code UDP_GRO} receive returns them, with {@link #HEADROOM} bytes free before
     * {@code index}.
     */
    public void fromUnderlayBatch(PacketBuffer packet, int index, int length, int segmentSize, int sourceHost, int sourcePort) {
        int size = segmentSize > 0 ? segmentSize : length;
        int end = index + length;
        long now = clock.time() / 1000; // one reading serves the whole batch: it arrived at once
        if (length == 0) {
            datagram(packet, index, 0, sourceHost, sourcePort, now);
        }
        for (int at = index; at < end; at += size) {
            datagram(packet, at, Math.min(size, end - at), sourceHost, sourcePort, now);
        }
        flushCoalesced();
    }

    private void datagram(PacketBuffer packet, int index, int length, int sourceHost, int sourcePort, long now) {
        counters.underlayRxPackets.increment();
        counters.underlayRxBytes.add(length);
        ByteBuffer buffer = packet.buffer();
        if (!vnp.wrap(buffer, index, length)) {
            counters.drop(DropReason.MALFORMED_ENCAPSULATION);
            return;
        }
        long expiry = vnp.expiry();
        if (expiry != VnpHeader.EXPIRY_NEVER) {
            if (now > expiry + skewSeconds) {
                counters.drop(DropReason.TOKEN_EXPIRED);
                return;
            }
            if (expiry > now + maxTtlSeconds + skewSeconds) {
                counters.drop(DropReason.EXPIRY_TOO_FAR);
                return;
            }
        }
        int inner = vnp.innerOffset();
        int innerLength = vnp.innerLength();
        if (!ipv4.wrap(buffer, inner, innerLength)) {
            counters.drop(DropReason.MALFORMED_ENCAPSULATION);
            return;
        }
        // The VM's address or one it owns besides (a VIP); the token is over its own address either way.
        if (!vm.owns(ipv4.destination())) {
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
        boolean partial = (vnp.flags() & VnpHeader.FLAG_CHECKSUM_PARTIAL) != 0;
        int protocol = ipv4.protocol();
        int checksumOffset = InternetChecksum.partialChecksumOffset(protocol);
        if (offloads) {
            if (partial && protocol == Ipv4Packet.PROTOCOL_TCP) {
                int outcome = coalescer.offer(buffer, inner, innerLength);
                if (outcome == TcpCoalescer.FLUSH_FIRST) {
                    flushCoalesced();
                    outcome = coalescer.offer(buffer, inner, innerLength);
                }
                if (outcome == TcpCoalescer.APPENDED) {
                    counters.groSegments.increment();
                    return;
                }
            }
            flushCoalesced();
            int ipHeaderLength = ipv4.headerLength();
            int frameStart = inner - EthernetFrame.HEADER_LENGTH - VirtioNetHeader.LENGTH;
            if (partial && checksumOffset > 0) {
                VirtioNetHeader.write(buffer, frameStart, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_NONE, 0, 0,
                        EthernetFrame.HEADER_LENGTH + ipHeaderLength, checksumOffset);
            } else {
                VirtioNetHeader.writeNone(buffer, frameStart);
            }
            EthernetFrame.writeHeader(buffer, inner - EthernetFrame.HEADER_LENGTH, vm.mac(), OutboundForwarder.GATEWAY_MAC,
                    EthernetFrame.ETHER_TYPE_IPV4);
            deliver(packet, frameStart, VirtioNetHeader.LENGTH + EthernetFrame.HEADER_LENGTH + innerLength);
            return;
        }
        if (partial && checksumOffset > 0) {
            InternetChecksum.completePartial(buffer, inner + ipv4.headerLength(), innerLength - ipv4.headerLength(), protocol);
        }
        int frameIndex = inner - EthernetFrame.HEADER_LENGTH;
        EthernetFrame.writeHeader(buffer, frameIndex, vm.mac(), OutboundForwarder.GATEWAY_MAC, EthernetFrame.ETHER_TYPE_IPV4);
        deliver(packet, frameIndex, EthernetFrame.HEADER_LENGTH + innerLength);
    }

    private void flushCoalesced() {
        if (coalescer != null && coalescer.hasPending()) {
            int length = coalescer.finish(vm.mac(), OutboundForwarder.GATEWAY_MAC);
            counters.groFrames.increment();
            deliver(coalesced, 0, length);
        }
    }

    private void deliver(PacketBuffer packet, int index, int length) {
        if (egress.toVm(vm, packet, index, length)) {
            vm.txPackets.increment();
            vm.txBytes.add(length);
        } else {
            counters.drop(DropReason.PORT_WRITE_FAILED);
        }
    }
}
