package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.Counters;
import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.ArpPacket;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.MacAddress;
import dev.vnet.wire.VnetHeader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forwarding decision without devices: two overlapping networks (blue and red, both 10.0.0.0/24)
 * on this host and a remote host, as in the demo.
 */
class ForwarderTest {
    private static final int BLUE = 100;
    private static final int RED = 200;
    private static final int IP1 = Ipv4Address.parse("10.0.0.1");
    private static final int IP2 = Ipv4Address.parse("10.0.0.2");
    private static final int IP3 = Ipv4Address.parse("10.0.0.3");

    private final RecordingEgress egress = new RecordingEgress();
    private DataplaneCounters counters;
    private Counters counterFile;
    private Forwarder forwarder;
    private VmPort blue1;
    private VmPort blue3;
    private VmPort red1;
    private RemoteVm blue2;
    private RemoteVm red2;
    private RemoteHost host2;

    @BeforeEach
    void setUp() {
        counterFile = Counters.inMemory(256);
        counters = new DataplaneCounters(counterFile);
        blue1 = new VmPort("blue1", BLUE, mac(1), IP1, null, counterFile);
        blue3 = new VmPort("blue3", BLUE, mac(3), IP3, null, counterFile);
        red1 = new VmPort("red1", RED, mac(4), IP1, null, counterFile);
        host2 = new RemoteHost("host2", Ipv4Address.parse("10.255.0.2"), VnetHeader.DEFAULT_PORT, MemorySegment.NULL);
        blue2 = new RemoteVm("blue2", BLUE, mac(2), IP2, host2);
        red2 = new RemoteVm("red2", RED, mac(5), IP2, host2);
        ForwardingTable table = ForwardingTable.builder().network(BLUE, "blue").network(RED, "red")
                .local(blue1).local(blue3).local(red1).remote(blue2).remote(red2).build();
        forwarder = new Forwarder(() -> table, egress, counters, 1500);
    }

    private static long mac(int n) {
        return 0x02_56_4E_00_00_00L + n;
    }

    // ---- from a VM ----

    @Test
    void answersArpFromTheSendersOwnNetwork() {
        fromVm(red1, arpRequest(red1, IP2));

        assertThat(egress.sent).hasSize(1);
        Sent reply = egress.sent.getFirst();
        assertThat(reply.port).isSameAs(red1);
        ByteBuffer frame = ByteBuffer.wrap(reply.bytes);
        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(frame, 0, reply.bytes.length)).isTrue();
        assertThat(ethernet.destination()).isEqualTo(red1.mac());
        assertThat(ethernet.source()).isEqualTo(red2.mac());
        ArpPacket arp = new ArpPacket();
        assertThat(arp.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength())).isTrue();
        assertThat(arp.operation()).isEqualTo(ArpPacket.OP_REPLY);
        // 10.0.0.2 in red is red2, never blue2, although blue2 has the same address.
        assertThat(arp.senderMac()).isEqualTo(red2.mac()).isNotEqualTo(blue2.mac());
        assertThat(arp.senderIp()).isEqualTo(IP2);
        assertThat(arp.targetMac()).isEqualTo(red1.mac());
        assertThat(arp.targetIp()).isEqualTo(IP1);
        assertThat(counterFile.reader().value("arp.replies")).isEqualTo(1);
    }

    @Test
    void doesNotAnswerArpForAnAddressOnlyAnotherNetworkHas() {
        fromVm(red1, arpRequest(red1, IP3));

        assertThat(egress.sent).isEmpty();
        assertThat(counters.drops(DropReason.ARP_UNKNOWN_TARGET)).isEqualTo(1);
    }

    @Test
    void answersArpProbesButNotSpoofedArp() {
        byte[] probe = arpRequest(blue1, IP3);
        Ipv4Address.write(ByteBuffer.wrap(probe), 14 + ArpPacket.SENDER_IP_OFFSET, 0);
        fromVm(blue1, probe);
        assertThat(egress.sent).hasSize(1);

        fromVm(blue1, arpRequest(blue3, IP2)); // blue3's addresses sent from blue1's port
        assertThat(counters.drops(DropReason.SPOOFED_SOURCE)).isEqualTo(1);
    }

    @Test
    void dropsArpRepliesFromVms() {
        byte[] frame = new byte[42];
        ByteBuffer b = ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(b, 0, blue3.mac(), blue1.mac(), EthernetFrame.ETHER_TYPE_ARP);
        ArpPacket.writeReply(b, 14, blue1.mac(), IP1, blue3.mac(), IP3);
        fromVm(blue1, frame);
        assertThat(counters.drops(DropReason.ARP_NOT_REQUEST)).isEqualTo(1);
        assertThat(egress.sent).isEmpty();
    }

    @Test
    void sameHostFrameGoesTapToTapUnchanged() {
        byte[] frame = ipv4Frame(blue1, blue3.mac(), IP3, 100);
        fromVm(blue1, frame);

        assertThat(egress.sent).singleElement().satisfies(s -> {
            assertThat(s.port).isSameAs(blue3);
            assertThat(s.bytes).isEqualTo(frame);
        });
        assertThat(counterFile.reader().value("port.blue1.rx_packets")).isEqualTo(1);
        assertThat(counterFile.reader().value("port.blue3.tx_packets")).isEqualTo(1);
        assertThat(counterFile.reader().value("port.blue3.tx_bytes")).isEqualTo(frame.length);
    }

    @Test
    void remoteFrameIsEncapsulatedWithItsNetworkIdAndSentToTheHost() {
        byte[] frame = ipv4Frame(red1, red2.mac(), IP2, 200);
        fromVm(red1, frame);

        assertThat(egress.sent).singleElement().satisfies(s -> {
            assertThat(s.host).isSameAs(host2);
            VnetHeader header = new VnetHeader();
            assertThat(header.wrap(ByteBuffer.wrap(s.bytes), 0, s.bytes.length)).isTrue();
            assertThat(header.networkId()).isEqualTo(RED);
            assertThat(Arrays.copyOfRange(s.bytes, VnetHeader.LENGTH, s.bytes.length)).isEqualTo(frame);
        });
        assertThat(counterFile.reader().value("underlay.tx_packets")).isEqualTo(1);
    }

    @Test
    void aVmCannotReachAnotherNetworksVmEvenByItsMac() {
        fromVm(red1, ipv4Frame(red1, blue3.mac(), IP3, 64)); // local blue VM
        fromVm(red1, ipv4Frame(red1, blue2.mac(), IP2, 64)); // remote blue VM

        assertThat(egress.sent).isEmpty();
        assertThat(counters.drops(DropReason.UNKNOWN_DESTINATION)).isEqualTo(2);
    }

    @Test
    void dropsSpoofedSources() {
        fromVm(blue1, ipv4Frame(blue3, blue2.mac(), IP2, 64)); // blue3's MAC from blue1's port
        byte[] spoofedIp = ipv4Frame(blue1, blue2.mac(), IP2, 64);
        Ipv4Address.write(ByteBuffer.wrap(spoofedIp), 14 + Ipv4Packet.SOURCE_OFFSET, IP3);
        fromVm(blue1, spoofedIp);

        assertThat(egress.sent).isEmpty();
        assertThat(counters.drops(DropReason.SPOOFED_SOURCE)).isEqualTo(2);
    }

    @Test
    void dropsMalformedAndUnsupportedFramesByReason() {
        fromVm(blue1, new byte[10]); // runt
        byte[] badHeaderLength = ipv4Frame(blue1, blue2.mac(), IP2, 64);
        badHeaderLength[14] = 0x43; // IHL 3: shorter than the 20-byte minimum
        fromVm(blue1, badHeaderLength);
        byte[] longTotalLength = ipv4Frame(blue1, blue2.mac(), IP2, 64);
        ByteBuffer.wrap(longTotalLength).putShort(14 + Ipv4Packet.TOTAL_LENGTH_OFFSET, (short) 1400);
        fromVm(blue1, longTotalLength);
        byte[] ipv6 = ipv4Frame(blue1, blue2.mac(), IP2, 64);
        ByteBuffer.wrap(ipv6).putShort(EthernetFrame.ETHER_TYPE_OFFSET, (short) EthernetFrame.ETHER_TYPE_IPV6);
        fromVm(blue1, ipv6);
        fromVm(blue1, ipv4Frame(blue1, MacAddress.BROADCAST, IP2, 64));
        fromVm(blue1, ipv4Frame(blue1, blue1.mac(), IP1, 64));
        fromVm(blue1, ipv4Frame(blue1, blue2.mac(), IP2, 1431)); // frame of 1465 > 1464
        byte[] shortArp = Arrays.copyOf(arpRequest(blue1, IP2), 30);
        fromVm(blue1, shortArp);

        assertThat(egress.sent).isEmpty();
        assertThat(counters.drops(DropReason.MALFORMED_FRAME)).isEqualTo(1);
        assertThat(counters.drops(DropReason.MALFORMED_IPV4)).isEqualTo(2);
        assertThat(counters.drops(DropReason.UNSUPPORTED_ETHER_TYPE)).isEqualTo(1);
        assertThat(counters.drops(DropReason.BROADCAST_NOT_FORWARDED)).isEqualTo(1);
        assertThat(counters.drops(DropReason.HAIRPIN)).isEqualTo(1);
        assertThat(counters.drops(DropReason.TOO_BIG)).isEqualTo(1);
        assertThat(counters.drops(DropReason.MALFORMED_ARP)).isEqualTo(1);
    }

    @Test
    void largestFrameThatFitsTheUnderlayIsForwarded() {
        assertThat(forwarder.maxFrameLength()).isEqualTo(1464);
        fromVm(blue1, ipv4Frame(blue1, blue2.mac(), IP2, 1430)); // IP MTU 1450
        assertThat(egress.sent).hasSize(1);
        assertThat(egress.sent.getFirst().bytes).hasSize(1500 - 28);
    }

    // ---- from the underlay ----

    @Test
    void deliversADatagramToTheLocalVmOfItsNetwork() {
        byte[] frame = ipv4Frame(red2, red1.mac(), IP1, 300);
        fromUnderlay(datagram(RED, frame));

        assertThat(egress.sent).singleElement().satisfies(s -> {
            assertThat(s.port).isSameAs(red1);
            assertThat(s.bytes).isEqualTo(frame);
        });
    }

    @Test
    void dropsDatagramsForOtherNetworksUnknownNetworksAndOtherHosts() {
        fromUnderlay(datagram(BLUE, ipv4Frame(blue2, red1.mac(), IP1, 64)));   // red1 is here, but not in blue
        fromUnderlay(datagram(999, ipv4Frame(blue2, blue1.mac(), IP1, 64)));   // no network 999 here
        fromUnderlay(datagram(BLUE, ipv4Frame(blue2, 0x02_00_00_00_99_99L, IP1, 64)));
        fromUnderlay(datagram(BLUE, ipv4Frame(blue1, blue2.mac(), IP2, 64)));  // blue2 is not on this host
        fromUnderlay(datagram(BLUE, ipv4Frame(blue3, blue1.mac(), IP1, 64)));  // source is local, not remote
        fromUnderlay(datagram(RED, ipv4Frame(blue2, red1.mac(), IP1, 64)));    // source from another network

        assertThat(egress.sent).isEmpty();
        assertThat(counters.drops(DropReason.WRONG_NETWORK)).isEqualTo(1);
        assertThat(counters.drops(DropReason.UNKNOWN_NETWORK)).isEqualTo(1);
        assertThat(counters.drops(DropReason.UNKNOWN_DESTINATION)).isEqualTo(1);
        assertThat(counters.drops(DropReason.NOT_LOCAL)).isEqualTo(1);
        assertThat(counters.drops(DropReason.SPOOFED_SOURCE)).isEqualTo(2);
    }

    @Test
    void dropsMalformedEncapsulation() {
        byte[] good = datagram(BLUE, ipv4Frame(blue2, blue1.mac(), IP1, 64));
        fromUnderlay(new byte[0]);
        fromUnderlay(Arrays.copyOf(good, 7));                 // truncated header
        fromUnderlay(Arrays.copyOf(good, VnetHeader.LENGTH + 10)); // truncated inner frame
        byte[] badVersion = good.clone();
        badVersion[VnetHeader.VERSION_OFFSET] = 9;
        fromUnderlay(badVersion);
        byte[] badMagic = good.clone();
        badMagic[0] = 0;
        fromUnderlay(badMagic);
        byte[] zeroNetwork = datagram(0, ipv4Frame(blue2, blue1.mac(), IP1, 64));
        fromUnderlay(zeroNetwork);

        assertThat(egress.sent).isEmpty();
        assertThat(counters.drops(DropReason.MALFORMED_ENCAPSULATION)).isEqualTo(6);
    }

    @Test
    void failedWritesAreCountedNotLost() {
        egress.refuse = true;
        fromVm(blue1, ipv4Frame(blue1, blue3.mac(), IP3, 64));
        fromVm(blue1, ipv4Frame(blue1, blue2.mac(), IP2, 64));
        assertThat(counters.drops(DropReason.PORT_WRITE_FAILED)).isEqualTo(1);
        assertThat(counters.drops(DropReason.UNDERLAY_SEND_FAILED)).isEqualTo(1);
    }

    /** Random garbage and random corruptions of good packets: nothing throws and every packet is accounted for. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 1234, 99_999, 0xC0FFEE})
    void survivesHostileInputAndAccountsForEveryPacket(long seed) {
        Random random = new Random(seed);
        byte[][] templates = {
                datagram(BLUE, ipv4Frame(blue2, blue1.mac(), IP1, 64)),
                datagram(RED, ipv4Frame(red2, red1.mac(), IP1, 200)),
                datagram(BLUE, arpRequest(blue3, IP2)),
        };
        int packets = 2000;
        for (int i = 0; i < packets; i++) {
            fromUnderlay(mutate(random, templates[random.nextInt(templates.length)]));
            fromVm(i % 2 == 0 ? blue1 : red1, mutate(random, ipv4Frame(blue1, blue2.mac(), IP2, random.nextInt(1400))));
        }
        var values = counterFile.reader().snapshot();
        long drops = values.entrySet().stream().filter(e -> e.getKey().startsWith("drop.")).mapToLong(e -> e.getValue()).sum();
        long forwarded = egress.sent.size();
        assertThat(values.get("underlay.rx_packets") + values.get("port.blue1.rx_packets") + values.get("port.red1.rx_packets"))
                .isEqualTo(2L * packets);
        assertThat(drops + forwarded).isEqualTo(2L * packets);
    }

    @Test
    void forwardingAllocatesNothingPerPacket() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Egress discard = new Egress() {
            @Override
            public boolean toPort(VmPort port, PacketBuffer packet, int index, int length) {
                return true;
            }

            @Override
            public boolean toUnderlay(RemoteHost host, PacketBuffer packet, int index, int length) {
                return true;
            }
        };
        ForwardingTable table = ForwardingTable.builder().network(BLUE, "blue").local(blue1).local(blue3).remote(blue2).build();
        Forwarder quiet = new Forwarder(() -> table, discard, counters, 1500);
        PacketBuffer toRemote = buffer(Forwarder.HEADROOM, ipv4Frame(blue1, blue2.mac(), IP2, 1000));
        PacketBuffer arp = buffer(Forwarder.HEADROOM, arpRequest(blue1, IP3));
        PacketBuffer fromHost = buffer(0, datagram(BLUE, ipv4Frame(blue2, blue3.mac(), IP3, 1000)));
        int toRemoteLength = 14 + 20 + 1000;
        int arpLength = 42;
        int fromHostLength = VnetHeader.LENGTH + 14 + 20 + 1000;
        Runnable round = () -> {
            quiet.fromVm(blue1, toRemote, Forwarder.HEADROOM, toRemoteLength);
            VnetHeader.write(toRemote.buffer(), 0, 0); // the header written in place is irrelevant here
            quiet.fromVm(blue1, arp, Forwarder.HEADROOM, arpLength);
            quiet.fromUnderlay(fromHost, 0, fromHostLength);
        };
        for (int i = 0; i < 50_000; i++) {
            round.run();
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            round.run();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).as("bytes allocated by 30,000 forwarding decisions").isLessThan(1024);
    }

    // ---- helpers ----

    private void fromVm(VmPort port, byte[] frame) {
        forwarder.fromVm(port, buffer(Forwarder.HEADROOM, frame), Forwarder.HEADROOM, frame.length);
    }

    private void fromUnderlay(byte[] datagram) {
        forwarder.fromUnderlay(buffer(0, datagram), 0, datagram.length);
    }

    private static PacketBuffer buffer(int index, byte[] bytes) {
        PacketBuffer packet = PacketBuffer.allocate(index + Math.max(bytes.length, 1));
        packet.buffer().put(index, bytes);
        return packet;
    }

    static byte[] ipv4Frame(Endpoint from, long destinationMac, int destinationIp, int payload) {
        byte[] frame = new byte[14 + 20 + payload];
        ByteBuffer b = ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(b, 0, destinationMac, from.mac(), EthernetFrame.ETHER_TYPE_IPV4);
        Ipv4Packet.writeHeader(b, 14, 20 + payload, 7, 64, Ipv4Packet.PROTOCOL_UDP, from.ip(), destinationIp);
        return frame;
    }

    static byte[] arpRequest(Endpoint from, int targetIp) {
        byte[] frame = new byte[42];
        ByteBuffer b = ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(b, 0, MacAddress.BROADCAST, from.mac(), EthernetFrame.ETHER_TYPE_ARP);
        ArpPacket.writeRequest(b, 14, from.mac(), from.ip(), targetIp);
        return frame;
    }

    static byte[] datagram(int networkId, byte[] frame) {
        byte[] datagram = new byte[VnetHeader.LENGTH + frame.length];
        ByteBuffer b = ByteBuffer.wrap(datagram);
        VnetHeader.write(b, 0, networkId);
        b.put(VnetHeader.LENGTH, frame);
        return datagram;
    }

    private static byte[] mutate(Random random, byte[] template) {
        byte[] bytes = switch (random.nextInt(4)) {
            case 0 -> {
                byte[] garbage = new byte[random.nextInt(1600)];
                random.nextBytes(garbage);
                yield garbage;
            }
            case 1 -> Arrays.copyOf(template, random.nextInt(template.length + 1));
            default -> template.clone();
        };
        for (int flips = random.nextInt(4); flips > 0 && bytes.length > 0; flips--) {
            bytes[random.nextInt(Math.min(bytes.length, 60))] ^= (byte) (1 << random.nextInt(8));
        }
        return bytes;
    }

    private record Sent(VmPort port, RemoteHost host, byte[] bytes) {
    }

    private static final class RecordingEgress implements Egress {
        final List<Sent> sent = new ArrayList<>();
        boolean refuse;

        @Override
        public boolean toPort(VmPort port, PacketBuffer packet, int index, int length) {
            if (refuse) {
                return false;
            }
            sent.add(new Sent(port, null, copy(packet, index, length)));
            return true;
        }

        @Override
        public boolean toUnderlay(RemoteHost host, PacketBuffer packet, int index, int length) {
            if (refuse) {
                return false;
            }
            sent.add(new Sent(null, host, copy(packet, index, length)));
            return true;
        }

        private static byte[] copy(PacketBuffer packet, int index, int length) {
            byte[] bytes = new byte[length];
            packet.buffer().get(index, bytes);
            return bytes;
        }
    }
}
