package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.wire.ArpPacket;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.MacAddress;
import dev.vnet.wire.TcpSegmenter;
import dev.vnet.wire.VirtioNetHeader;
import dev.vnet.wire.VnpHeader;
import dev.vnet.wire.VnpToken;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * Frames a VM writes to its TAP, one forwarder per VM on that VM's TAP thread.
 *
 * <h2>Checks and ARP</h2>
 * A frame must be well formed and carry the VM's own source MAC and IPv4 source: a VM cannot
 * impersonate another. The agent answers every ARP request for a host address of the VM's subnet with
 * {@link #GATEWAY_MAC}, as a cloud's virtual router does: where a VM lives is the registry's business,
 * not the VM's, so nothing floods and the answer reveals nothing. Other broadcast and multicast drop.
 *
 * <h2>Virtual network pairs (seed 003, FIG. 4–5)</h2>
 * An IPv4 packet to a VM of the same network on this host goes TAP to TAP. Any other destination goes
 * through the pair (source VM, destination address): with a valid token the packet is sent at once,
 * the IPv4 packet prefixed in place by the 16-byte VNP header (no copy), from the VM's reserved port to
 * the destination's. The pair's first packets also carry the return token, computed here with the
 * source VM's key, when it fits under the underlay MTU. Without a token the first packet asks the
 * registry and waits in a small queue; when the grant arrives the waiting packets are sent in order on
 * the thread that completed the request. Refusals and an unreachable registry drop the waiting packets
 * (counted) and are retried after a pause. At 80 % of a token's life the next packet asks for a new one
 * while the current one keeps working, so a long flow never stalls.
 *
 * <h2>Offloads</h2>
 * With a TAP that carries {@code virtio_net_hdr}s, the VM's kernel hands over TCP super-frames of up
 * to 64 KB with the checksum left partial. Such a frame is segmented ({@link TcpSegmenter}) straight
 * into the layout {@code UDP_SEGMENT} wants, each segment behind its VNP header, and leaves with one
 * {@code sendmsg}; partial checksums travel as partial (VNP flag C) and are never summed here.
 *
 * <p>The fast path (valid grant) allocates nothing.
 */
public final class OutboundForwarder {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundForwarder.class);
    /** The MAC the agent answers ARP with and writes as the source of frames it delivers. */
    public static final long GATEWAY_MAC = 0x02_56_4E_FF_FF_FEL;
    /** Bytes a caller must leave in front of a frame: the VNP header replaces the Ethernet header and 2 more. */
    public static final int HEADROOM = VnpHeader.LENGTH + VirtioNetHeader.LENGTH;
    /** Where a queued IPv4 packet starts in its slot. */
    static final int IP_HEADROOM = VnpHeader.LENGTH;
    private static final int UDP_IPV4_OVERHEAD = 20 + 8;
    private static final int ARP_FRAME_LENGTH = EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH;
    private static final long REFUSAL_RETRY_SECONDS = 5;
    /** The most one UDP send may carry (65535 - 8 - 20), segmented or not. */
    static final int MAX_SEGMENTED_SEND = 65507;
    /** The kernel's UDP_MAX_SEGMENTS on older kernels; newer ones allow 128. */
    static final int MAX_SEGMENTS_PER_SEND = 64;
    private static final long UNAVAILABLE_RETRY_SECONDS = 1;

    private final LocalVm vm;
    private final LocalVms locals;
    private final TokenSource tokens;
    private final Egress egress;
    private final Supplier<Egress> completionEgress;
    private final DataplaneCounters counters;
    private final EpochClock clock;
    private final int maxDatagram;
    private final EthernetFrame frame = new EthernetFrame();
    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private final ArpPacket arp = new ArpPacket();
    private final boolean offloads;
    /** Where an offloaded reply frame starts: after its virtio header, if the TAP wants one. */
    private final int replyStart;
    private final PacketBuffer arpReply = PacketBuffer.allocate(VirtioNetHeader.LENGTH + ARP_FRAME_LENGTH);
    private final VirtioNetHeader virtio = new VirtioNetHeader();
    private final TcpSegmenter segmenter = new TcpSegmenter();
    /** Segments of one super-frame: 64 KB of payload plus a VNP, IP and TCP header per segment. */
    private final PacketBuffer segments = PacketBuffer.allocate(128 * 1024);

    /**
     * @param egress           this thread's egress
     * @param completionEgress makes an egress for the thread that completes a token request
     * @param underlayMtu      the underlay's IP MTU; a datagram never exceeds it
     */
    public OutboundForwarder(LocalVm vm, LocalVms locals, TokenSource tokens, Egress egress,
                             Supplier<Egress> completionEgress, DataplaneCounters counters, EpochClock clock,
                             int underlayMtu) {
        this.vm = vm;
        this.locals = locals;
        this.tokens = tokens;
        this.egress = egress;
        this.completionEgress = completionEgress;
        this.counters = counters;
        this.clock = clock;
        this.maxDatagram = underlayMtu - UDP_IPV4_OVERHEAD;
        this.offloads = vm.offloads();
        this.replyStart = offloads ? VirtioNetHeader.LENGTH : 0;
    }

    /** The MTU a VM's NIC must have so that each of its IPv4 packets fits in one datagram. */
    public static int vmMtu(int underlayMtu) {
        return underlayMtu - UDP_IPV4_OVERHEAD - VnpHeader.LENGTH;
    }

    /**
     * Handles one frame read from the VM's TAP at {@code index}, with {@link #HEADROOM} free bytes before
     * it; with offloads, its {@code virtio_net_hdr} is the 10 bytes just before {@code index}.
     */
    public void fromVm(PacketBuffer packet, int index, int length) {
        vm.rxPackets.increment();
        vm.rxBytes.add(length);
        ByteBuffer buffer = packet.buffer();
        int gsoType = VirtioNetHeader.GSO_NONE;
        int gsoSize = 0;
        boolean partial = false;
        if (offloads) {
            virtio.wrap(buffer, index - VirtioNetHeader.LENGTH, VirtioNetHeader.LENGTH);
            gsoType = virtio.gsoType();
            gsoSize = virtio.gsoSize();
            partial = virtio.needsChecksum();
        }
        if (!frame.wrap(buffer, index, length)) {
            counters.drop(DropReason.MALFORMED_FRAME);
            return;
        }
        if (frame.source() != vm.mac()) {
            counters.drop(DropReason.SPOOFED_SOURCE);
            return;
        }
        switch (frame.etherType()) {
            case EthernetFrame.ETHER_TYPE_ARP -> answerArp(buffer);
            case EthernetFrame.ETHER_TYPE_IPV4 -> {
                if (!ipv4.wrap(buffer, frame.payloadOffset(), frame.payloadLength())) {
                    counters.drop(DropReason.MALFORMED_IPV4);
                } else if (!vm.owns(ipv4.source())) { // its address or an additional one; ARP claims only its own
                    counters.drop(DropReason.SPOOFED_SOURCE);
                } else {
                    forward(packet, index, length, gsoType, gsoSize, partial);
                }
            }
            default -> counters.drop(DropReason.UNSUPPORTED_ETHER_TYPE);
        }
    }

    private void forward(PacketBuffer packet, int index, int length, int gsoType, int gsoSize, boolean partial) {
        int destination = ipv4.destination();
        if (MacAddress.isMulticast(frame.destination()) || (destination >>> 28) == 0xE
                || destination == 0xFFFF_FFFF || destination == vm.broadcast()) {
            counters.drop(DropReason.BROADCAST_NOT_FORWARDED);
            return;
        }
        if (destination == vm.address()) {
            counters.drop(DropReason.HAIRPIN);
            return;
        }
        LocalVm neighbour = locals.find(vm.networkId(), destination);
        if (neighbour != null) {
            frame.destination(neighbour.mac());
            frame.source(GATEWAY_MAC);
            // Both TAPs of one agent speak the same header, so a super-frame passes through whole.
            deliver(egress, neighbour, packet, index - replyStart, length + replyStart);
            return;
        }
        int ipIndex = frame.payloadOffset();
        int ipLength = ipv4.totalLength();
        int vnpFlags = partial ? VnpHeader.FLAG_CHECKSUM_PARTIAL : 0;
        int segmentCount = 0;
        if (gsoType != VirtioNetHeader.GSO_NONE) {
            segmentCount = gsoType == VirtioNetHeader.GSO_TCPV4
                    ? segmenter.segment(packet.buffer(), ipIndex, ipLength, gsoSize, segments.buffer(), 0, VnpHeader.LENGTH)
                    : -1;
            if (segmentCount < 0 || (segmentCount > 1 && segmenter.stride() > maxDatagram)
                    || segmenter.lastLength() > maxDatagram) {
                counters.drop(DropReason.TOO_BIG);
                return;
            }
            vnpFlags = VnpHeader.FLAG_CHECKSUM_PARTIAL;
        } else if (VnpHeader.LENGTH + ipLength > maxDatagram) {
            counters.drop(DropReason.TOO_BIG);
            return;
        }
        Vnp pair = vm.pairs().get(destination);
        if (pair == null) {
            pair = vm.pairs().getOrCreate(destination);
            if (pair == null) {
                counters.drop(DropReason.TOKEN_QUEUE_FULL);
                return;
            }
        }
        long now = clock.time() / 1000;
        ActiveGrant grant = pair.grant;
        if (grant != null && grant.usableAt(now)) {
            if (now >= grant.refreshAt) {
                grant.refreshAt = now + UNAVAILABLE_RETRY_SECONDS;
                renew(pair);
            }
            if (segmentCount > 0) {
                sendSegments(grant, segmentCount);
            } else {
                send(egress, grant, packet, ipIndex, ipLength, vnpFlags);
            }
        } else if (segmentCount > 0) {
            for (int i = 0; i < segmentCount; i++) {
                int segment = i * segmenter.stride();
                int segmentLength = (i == segmentCount - 1 ? segmenter.lastLength() : segmenter.stride()) - VnpHeader.LENGTH;
                waitForToken(pair, segments, segment + VnpHeader.LENGTH, segmentLength, vnpFlags, now);
            }
        } else {
            waitForToken(pair, packet, ipIndex, ipLength, vnpFlags, now);
        }
    }

    /**
     * Sends the segments of one super-frame, each behind its VNP header, in as few segmented sends as
     * the kernel takes: one send carries at most {@link #MAX_SEGMENTED_SEND} bytes (the UDP length
     * limit), which a full 64 KB super-frame plus per-segment headers exceeds, so it takes two.
     */
    private void sendSegments(ActiveGrant grant, int segmentCount) {
        ByteBuffer out = segments.buffer();
        int stride = segmenter.stride();
        for (int i = 0; i < segmentCount; i++) {
            VnpHeader.write(out, i * stride, grant.token, grant.expiry, VnpHeader.FLAG_CHECKSUM_PARTIAL);
        }
        int perSend = Math.max(1, Math.min(MAX_SEGMENTS_PER_SEND, MAX_SEGMENTED_SEND / stride));
        counters.tsoSuperFrames.increment();
        for (int first = 0; first < segmentCount; first += perSend) {
            int count = Math.min(perSend, segmentCount - first);
            boolean includesLast = first + count == segmentCount;
            int length = (count - 1) * stride + (includesLast ? segmenter.lastLength() : stride);
            if (egress.toUnderlaySegmented(vm, grant.socketAddress, segments, first * stride, length, stride)) {
                counters.underlayTxPackets.add(count);
                counters.underlayTxBytes.add(length);
                counters.tsoSegments.add(count);
            } else {
                counters.drop(DropReason.UNDERLAY_SEND_FAILED);
            }
        }
    }

    private void waitForToken(Vnp pair, PacketBuffer packet, int ipIndex, int ipLength, int vnpFlags, long now) {
        synchronized (pair) {
            ActiveGrant grant = pair.grant;
            if (grant != null && grant.usableAt(now)) {
                send(egress, grant, packet, ipIndex, ipLength, vnpFlags); // completed while we were getting here
                return;
            }
            if (!pair.requestInFlight && pair.lastFailure != null && now < pair.retryAtSeconds) {
                counters.drop(pair.lastFailure);
                return;
            }
            if (!pair.enqueue(packet, ipIndex, ipLength, vnpFlags, IP_HEADROOM + maxDatagram + VnpHeader.RETURN_TOKEN_OPTION_LENGTH)) {
                counters.drop(DropReason.TOKEN_QUEUE_FULL);
            }
            if (!pair.requestInFlight) {
                pair.requestInFlight = true;
                request(pair);
            }
        }
    }

    private void renew(Vnp pair) {
        synchronized (pair) {
            if (!pair.requestInFlight) {
                pair.requestInFlight = true;
                request(pair);
            }
        }
    }

    private void request(Vnp pair) {
        counters.tokenRequests.increment();
        tokens.request(vm.name(), pair.destination).whenComplete((grant, failure) -> complete(pair, grant, failure));
    }

    /** Runs on whichever thread completed the request (a registry client thread, or this one in tests). */
    private void complete(Vnp pair, TokenGrant grant, Throwable failure) {
        long now = clock.time() / 1000;
        synchronized (pair) {
            pair.requestInFlight = false;
            if (grant != null) {
                counters.tokenGrants.increment();
                install(pair, grant, returnToken(grant, pair.destination), now);
                pair.lastFailure = null;
                return;
            }
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            boolean refused = cause instanceof TokenRefusedException;
            DropReason reason = refused ? DropReason.TOKEN_REFUSED : DropReason.REGISTRY_UNAVAILABLE;
            if (pair.lastFailure != reason) {
                LOG.warn("vm {}: no token for {}: {}", vm.name(), dev.vnet.wire.Ipv4Address.toString(pair.destination),
                        cause == null ? "unknown" : cause.getMessage());
            }
            pair.lastFailure = reason;
            pair.retryAtSeconds = now + (refused ? REFUSAL_RETRY_SECONDS : UNAVAILABLE_RETRY_SECONDS);
            for (int i = 0; i < pair.queued(); i++) {
                counters.drop(reason);
            }
            pair.clearQueue();
        }
    }

    /**
     * Installs a grant for {@code pair} and sends whatever waited for it, in order, before the fast path
     * may use the grant. Also used when a return token arrives. Caller holds the pair's monitor.
     */
    private void install(Vnp pair, TokenGrant grant, long returnToken, long now) {
        ActiveGrant active = new ActiveGrant(grant,
                UdpSocket.socketAddress(Arena.ofAuto(), grant.hostAddress(), grant.port()), returnToken, now);
        if (pair.queued() > 0) {
            Egress completion = completionEgress.get();
            for (int i = 0; i < pair.queued(); i++) {
                send(completion, active, pair.queuedPacket(i), pair.queuedIndex(i), pair.queuedLength(i), pair.queuedFlags(i));
            }
            pair.clearQueue();
        }
        pair.grant = active;
    }

    /**
     * Adopts a return token that arrived in a validated packet from {@code destination}: answers to it
     * need no registry request. Thread-safe; called by the VM's receiving thread.
     */
    public void learnReturnToken(int destination, int hostAddress, int port, long token, long expiry) {
        Vnp pair = vm.pairs().getOrCreate(destination);
        if (pair == null) {
            return;
        }
        ActiveGrant current = pair.grant;
        if (current != null && current.sameAs(hostAddress, port, token, expiry)) {
            return;
        }
        long now = clock.time() / 1000;
        synchronized (pair) {
            current = pair.grant;
            if (current != null && current.usableAt(now) && current.returnToken != ActiveGrant.NO_RETURN_TOKEN) {
                return; // a registry grant of our own is as good and also carries our return token
            }
            install(pair, new TokenGrant(hostAddress, port, token, expiry), ActiveGrant.NO_RETURN_TOKEN, now);
            pair.lastFailure = null;
            counters.returnTokensLearned.increment();
        }
    }

    /** The token the destination may use to answer this VM: computed with this VM's key (seed 003, FIG. 5). */
    private long returnToken(TokenGrant grant, int destination) {
        return new VnpToken(vm.key()).compute(grant.hostAddress(), grant.port(), destination, vm.address(), grant.expiry());
    }

    private void send(Egress out, ActiveGrant grant, PacketBuffer packet, int ipIndex, int ipLength, int vnpFlags) {
        ByteBuffer buffer = packet.buffer();
        int datagram = VnpHeader.LENGTH + ipLength;
        int flags = vnpFlags;
        if (grant.returnTokensLeft > 0 && datagram + VnpHeader.RETURN_TOKEN_OPTION_LENGTH <= maxDatagram) {
            grant.returnTokensLeft--;
            datagram += VnpHeader.writeReturnToken(buffer, ipIndex + ipLength, grant.returnToken, grant.expiry);
            flags |= VnpHeader.FLAG_OPTIONS;
            counters.returnTokensSent.increment();
        }
        int start = ipIndex - VnpHeader.LENGTH;
        VnpHeader.write(buffer, start, grant.token, grant.expiry, flags);
        if (out.toUnderlay(vm, grant.socketAddress, packet, start, datagram)) {
            counters.underlayTxPackets.increment();
            counters.underlayTxBytes.add(datagram);
        } else {
            counters.drop(DropReason.UNDERLAY_SEND_FAILED);
        }
    }

    private void answerArp(ByteBuffer buffer) {
        if (!arp.wrap(buffer, frame.payloadOffset(), frame.payloadLength())) {
            counters.drop(DropReason.MALFORMED_ARP);
            return;
        }
        if (arp.operation() != ArpPacket.OP_REQUEST) {
            counters.drop(DropReason.ARP_NOT_REQUEST);
            return;
        }
        // Sender address 0 is an RFC 5227 probe: the VM checks that nobody else has its address.
        if (arp.senderMac() != vm.mac() || (arp.senderIp() != vm.address() && arp.senderIp() != 0)) {
            counters.drop(DropReason.SPOOFED_SOURCE);
            return;
        }
        int target = arp.targetIp();
        if (target == vm.address() || !vm.isHostInSubnet(target)) {
            counters.drop(DropReason.ARP_UNKNOWN_TARGET);
            return;
        }
        ByteBuffer reply = arpReply.buffer();
        if (offloads) {
            VirtioNetHeader.writeNone(reply, 0);
        }
        EthernetFrame.writeHeader(reply, replyStart, vm.mac(), GATEWAY_MAC, EthernetFrame.ETHER_TYPE_ARP);
        ArpPacket.writeReply(reply, replyStart + EthernetFrame.HEADER_LENGTH, GATEWAY_MAC, target, vm.mac(), arp.senderIp());
        if (egress.toVm(vm, arpReply, 0, replyStart + ARP_FRAME_LENGTH)) {
            counters.arpReplies.increment();
        } else {
            counters.drop(DropReason.PORT_WRITE_FAILED);
        }
    }

    private void deliver(Egress out, LocalVm target, PacketBuffer packet, int index, int length) {
        if (out.toVm(target, packet, index, length)) {
            target.txPackets.increment();
            target.txBytes.add(length);
        } else {
            counters.drop(DropReason.PORT_WRITE_FAILED);
        }
    }
}
