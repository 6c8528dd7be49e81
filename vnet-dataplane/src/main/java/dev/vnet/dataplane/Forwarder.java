package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.ArpPacket;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.MacAddress;
import dev.vnet.wire.VnetHeader;

import java.nio.ByteBuffer;
import java.util.function.Supplier;

/**
 * The forwarding decision for one thread: frames from a VM's TAP, and vnet datagrams from the underlay.
 *
 * <h2>From a VM</h2>
 * The frame must be well formed and carry the VM's own source MAC (and, for IPv4 and ARP, its own
 * source address): a VM cannot impersonate another. ARP requests are answered here from the
 * network's table, so ARP never floods and never leaves the host. Other broadcast or multicast is
 * dropped. A unicast frame is looked up by destination MAC in the table of the ingress port's own
 * network only: a VM of one network cannot name a VM of another, even with an equal IPv4 address.
 * A local destination gets the frame written to its TAP; a remote one gets the vnet header written
 * into the headroom in front of the frame (no copy) and one datagram to that host's agent.
 *
 * <h2>From the underlay</h2>
 * The vnet header names the network; the inner destination must be a port of this host in that very
 * network, and the inner source a VM of that network on another host. Anything else is dropped and
 * counted by reason.
 *
 * <p>Nothing here allocates: flyweights and the ARP reply buffer belong to this forwarder, which
 * belongs to one thread.
 */
public final class Forwarder {
    /** Bytes a caller must leave free in front of a VM's frame for the vnet header. */
    public static final int HEADROOM = VnetHeader.LENGTH;
    private static final int IPV4_UDP_OVERHEAD = 20 + 8;
    private static final int ARP_FRAME_LENGTH = EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH;

    private final Supplier<ForwardingTable> tables;
    private final Egress egress;
    private final DataplaneCounters counters;
    private final int maxFrameLength;
    private final EthernetFrame frame = new EthernetFrame();
    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private final ArpPacket arp = new ArpPacket();
    private final VnetHeader vnet = new VnetHeader();
    private final PacketBuffer arpReply = PacketBuffer.allocate(ARP_FRAME_LENGTH);

    /**
     * @param tables       the current table (read once per packet; may change between packets)
     * @param underlayMtu  the underlay's IP MTU; a frame that does not fit in one datagram is dropped
     */
    public Forwarder(Supplier<ForwardingTable> tables, Egress egress, DataplaneCounters counters, int underlayMtu) {
        this.tables = tables;
        this.egress = egress;
        this.counters = counters;
        this.maxFrameLength = underlayMtu - IPV4_UDP_OVERHEAD - VnetHeader.LENGTH;
    }

    /** The largest Ethernet frame a VM may send (VM MTU + 14). */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    /**
     * Handles one frame read from {@code ingress}'s TAP, at {@code index} in {@code packet}, with at least
     * {@link #HEADROOM} free bytes before it.
     */
    public void fromVm(VmPort ingress, PacketBuffer packet, int index, int length) {
        ingress.rxPackets.increment();
        ingress.rxBytes.add(length);
        ByteBuffer buffer = packet.buffer();
        if (!frame.wrap(buffer, index, length)) {
            counters.drop(DropReason.MALFORMED_FRAME);
            return;
        }
        if (frame.source() != ingress.mac()) {
            counters.drop(DropReason.SPOOFED_SOURCE);
            return;
        }
        switch (frame.etherType()) {
            case EthernetFrame.ETHER_TYPE_ARP -> answerArp(ingress, buffer);
            case EthernetFrame.ETHER_TYPE_IPV4 -> {
                if (!ipv4.wrap(buffer, frame.payloadOffset(), frame.payloadLength())) {
                    counters.drop(DropReason.MALFORMED_IPV4);
                } else if (ipv4.source() != ingress.ip()) {
                    counters.drop(DropReason.SPOOFED_SOURCE);
                } else {
                    forwardUnicast(ingress, packet, index, length);
                }
            }
            default -> counters.drop(DropReason.UNSUPPORTED_ETHER_TYPE);
        }
    }

    private void forwardUnicast(VmPort ingress, PacketBuffer packet, int index, int length) {
        long destination = frame.destination();
        if (MacAddress.isMulticast(destination)) {
            counters.drop(DropReason.BROADCAST_NOT_FORWARDED);
            return;
        }
        NetworkTable network = tables.get().network(ingress.networkId());
        Endpoint target = network == null ? null : network.byMac(destination);
        switch (target) {
            case null -> counters.drop(DropReason.UNKNOWN_DESTINATION);
            case VmPort port when port == ingress -> counters.drop(DropReason.HAIRPIN);
            case VmPort port -> deliver(port, packet, index, length);
            case RemoteVm remote -> {
                if (length > maxFrameLength) {
                    counters.drop(DropReason.TOO_BIG);
                    return;
                }
                int datagram = index - VnetHeader.LENGTH;
                VnetHeader.write(packet.buffer(), datagram, ingress.networkId());
                if (egress.toUnderlay(remote.host(), packet, datagram, length + VnetHeader.LENGTH)) {
                    counters.underlayTxPackets.increment();
                    counters.underlayTxBytes.add(length + VnetHeader.LENGTH);
                } else {
                    counters.drop(DropReason.UNDERLAY_SEND_FAILED);
                }
            }
        }
    }

    private void answerArp(VmPort ingress, ByteBuffer buffer) {
        if (!arp.wrap(buffer, frame.payloadOffset(), frame.payloadLength())) {
            counters.drop(DropReason.MALFORMED_ARP);
            return;
        }
        if (arp.operation() != ArpPacket.OP_REQUEST) {
            counters.drop(DropReason.ARP_NOT_REQUEST);
            return;
        }
        // Sender address 0 is an RFC 5227 probe: the VM checks that nobody else has its address.
        if (arp.senderMac() != ingress.mac() || (arp.senderIp() != ingress.ip() && arp.senderIp() != 0)) {
            counters.drop(DropReason.SPOOFED_SOURCE);
            return;
        }
        NetworkTable network = tables.get().network(ingress.networkId());
        Endpoint target = network == null ? null : network.byIp(arp.targetIp());
        if (target == null || target == ingress) {
            counters.drop(DropReason.ARP_UNKNOWN_TARGET);
            return;
        }
        ByteBuffer reply = arpReply.buffer();
        EthernetFrame.writeHeader(reply, 0, ingress.mac(), target.mac(), EthernetFrame.ETHER_TYPE_ARP);
        ArpPacket.writeReply(reply, EthernetFrame.HEADER_LENGTH, target.mac(), target.ip(), ingress.mac(),
                arp.senderIp());
        if (egress.toPort(ingress, arpReply, 0, ARP_FRAME_LENGTH)) {
            counters.arpReplies.increment();
        } else {
            counters.drop(DropReason.PORT_WRITE_FAILED);
        }
    }

    /** Handles one datagram received on the underlay socket, at {@code index} in {@code packet}. */
    public void fromUnderlay(PacketBuffer packet, int index, int length) {
        counters.underlayRxPackets.increment();
        counters.underlayRxBytes.add(length);
        ByteBuffer buffer = packet.buffer();
        if (!vnet.wrap(buffer, index, length)) {
            counters.drop(DropReason.MALFORMED_ENCAPSULATION);
            return;
        }
        ForwardingTable table = tables.get();
        NetworkTable network = table.network(vnet.networkId());
        if (network == null) {
            counters.drop(DropReason.UNKNOWN_NETWORK);
            return;
        }
        if (!frame.wrap(buffer, vnet.innerOffset(), vnet.innerLength())) {
            counters.drop(DropReason.MALFORMED_FRAME);
            return;
        }
        Endpoint target = network.byMac(frame.destination());
        Endpoint source = network.byMac(frame.source());
        switch (target) {
            case null -> counters.drop(table.localPort(frame.destination()) != null
                    ? DropReason.WRONG_NETWORK : DropReason.UNKNOWN_DESTINATION);
            case RemoteVm ignored -> counters.drop(DropReason.NOT_LOCAL);
            case VmPort port -> {
                if (!(source instanceof RemoteVm)) {
                    counters.drop(DropReason.SPOOFED_SOURCE);
                } else {
                    deliver(port, packet, vnet.innerOffset(), vnet.innerLength());
                }
            }
        }
    }

    private void deliver(VmPort port, PacketBuffer packet, int index, int length) {
        if (egress.toPort(port, packet, index, length)) {
            port.txPackets.increment();
            port.txBytes.add(length);
        } else {
            counters.drop(DropReason.PORT_WRITE_FAILED);
        }
    }
}
