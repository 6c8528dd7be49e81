package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.wire.ArpPacket;
import dev.vnet.wire.EthernetFrame;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.Ipv4Packet;
import dev.vnet.wire.MacAddress;
import dev.vnet.wire.VnpHeader;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VNP data plane between two simulated hosts, as in the demo: networks blue (100) and red (200)
 * both use 10.0.0.0/24; host1 runs blue1, blue3 and red1, host2 runs blue2 and red2.
 */
class VnpForwardingTest {
    private static final int BLUE = 100;
    private static final int RED = 200;
    private static final int HOST1 = Ipv4Address.parse("10.255.0.1");
    private static final int HOST2 = Ipv4Address.parse("10.255.0.2");
    private static final int IP1 = Ipv4Address.parse("10.0.0.1");
    private static final int IP2 = Ipv4Address.parse("10.0.0.2");
    private static final int IP3 = Ipv4Address.parse("10.0.0.3");
    /** A load balancer VIP, outside the subnet, that a VM may own besides its address. */
    private static final int VIP = Ipv4Address.parse("203.0.113.10");
    private static final int VIP2 = Ipv4Address.parse("10.0.0.100");

    private final CachedEpochClock clock = new CachedEpochClock();
    private final java.util.Map<Long, TestHost.Receiver> underlay = new java.util.HashMap<>();
    private InMemoryTokenAuthority registry;
    private TestHost host1;
    private TestHost host2;
    private LocalVm blue1;
    private LocalVm blue2;
    private LocalVm blue3;
    private LocalVm red1;
    private LocalVm red2;

    @BeforeEach
    void setUp() {
        clock.update(1_800_000_000_000L);
        registry = new InMemoryTokenAuthority(clock);
        host1 = new TestHost(HOST1, underlay);
        host2 = new TestHost(HOST2, underlay);
        blue1 = host1.addVm("blue1", BLUE, IP1, 1, 47901, registry);
        blue3 = host1.addVm("blue3", BLUE, IP3, 3, 47902, registry);
        red1 = host1.addVm("red1", RED, IP1, 4, 47903, registry);
        blue2 = host2.addVm("blue2", BLUE, IP2, 2, 47901, registry);
        red2 = host2.addVm("red2", RED, IP2, 5, 47902, registry);
        host1.start(registry, clock);
        host2.start(registry, clock);
    }

    // ---- ARP and the local path ----

    @Test
    void answersArpForAnyHostAddressOfTheSubnetWithTheGatewayMac() {
        host1.fromVm("red1", arpRequest(red1, IP2));
        assertThat(host1.delivered).singleElement().satisfies(f -> {
            ByteBuffer b = ByteBuffer.wrap(f.bytes());
            ArpPacket arp = new ArpPacket();
            assertThat(arp.wrap(b, 14, 28)).isTrue();
            assertThat(arp.operation()).isEqualTo(ArpPacket.OP_REPLY);
            assertThat(arp.senderMac()).isEqualTo(OutboundForwarder.GATEWAY_MAC);
            assertThat(arp.senderIp()).isEqualTo(IP2);
            assertThat(arp.targetMac()).isEqualTo(red1.mac());
        });
        host1.fromVm("red1", arpRequest(red1, IP1));                               // itself
        host1.fromVm("red1", arpRequest(red1, Ipv4Address.parse("10.0.1.9")));     // outside the subnet
        host1.fromVm("red1", arpRequest(red1, Ipv4Address.parse("10.0.0.255")));   // broadcast
        assertThat(host1.counters.drops(DropReason.ARP_UNKNOWN_TARGET)).isEqualTo(3);
        assertThat(registry.requests).isZero();
    }

    @Test
    void sameHostSameNetworkGoesTapToTapWithoutAToken() {
        byte[] frame = ipv4Frame(blue1, IP3, 100);
        host1.fromVm("blue1", frame);
        assertThat(host1.delivered).singleElement().satisfies(f -> {
            assertThat(f.vm()).isSameAs(blue3);
            EthernetFrame ethernet = new EthernetFrame();
            ethernet.wrap(ByteBuffer.wrap(f.bytes()), 0, f.bytes().length);
            assertThat(ethernet.destination()).isEqualTo(blue3.mac());
            assertThat(ethernet.source()).isEqualTo(OutboundForwarder.GATEWAY_MAC);
            assertThat(Arrays.copyOfRange(f.bytes(), 14, f.bytes().length)).isEqualTo(Arrays.copyOfRange(frame, 14, frame.length));
        });
        assertThat(registry.requests).isZero();
        assertThat(host1.sent).isEmpty();
    }

    @Test
    void aVmCannotReachAnotherNetworksVmOnTheSameHostEvenWithItsAddress() {
        host1.fromVm("red1", ipv4Frame(red1, IP3, 64)); // 10.0.0.3 is blue3, on this host, but red has none
        assertThat(host1.delivered).isEmpty();
        assertThat(host1.counters.drops(DropReason.TOKEN_REFUSED)).isEqualTo(1);
    }

    // ---- pairs across hosts ----

    @Test
    void firstPacketsWaitForTheTokenThenFlowInOrderAndCarryTheReturnToken() {
        registry.deferred = true;
        for (int i = 0; i < 3; i++) {
            host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10 + i));
        }
        assertThat(host1.sent).isEmpty();
        assertThat(registry.requests).as("one request per pair, not per packet").isEqualTo(1);

        registry.completePending();
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 13));
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 14));

        assertThat(host1.sent).hasSize(5).allSatisfy(d -> {
            assertThat(d.host()).isEqualTo(HOST2);
            assertThat(d.port()).isEqualTo(blue2.port());
        });
        VnpHeader header = new VnpHeader();
        for (int i = 0; i < 5; i++) {
            byte[] bytes = host1.sent.get(i).bytes();
            assertThat(header.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isTrue();
            assertThat(header.innerLength()).as("packet %d in order", i).isEqualTo(20 + 10 + i);
            assertThat(header.hasReturnToken()).as("return token in packet %d", i).isEqualTo(i < 3);
        }
        assertThat(host2.delivered).hasSize(5).allSatisfy(f -> assertThat(f.vm()).isSameAs(blue2));
        assertThat(host2.value("token.validations")).isEqualTo(1);
        assertThat(host2.value("token.cache_hits")).isEqualTo(4);
        assertThat(registry.requests).isEqualTo(1);
    }

    @Test
    void theDestinationAnswersWithTheReturnTokenWithoutAskingTheRegistry() {
        host1.fromVm("red1", ipv4Frame(red1, IP2, 64));
        assertThat(host2.delivered).singleElement().satisfies(f -> assertThat(f.vm()).isSameAs(red2));
        int requestsBefore = registry.requests;

        host2.fromVm("red2", ipv4Frame(red2, IP1, 64));

        assertThat(registry.requests).isEqualTo(requestsBefore);
        assertThat(host2.value("token.return_learned")).isEqualTo(1);
        assertThat(host1.delivered).singleElement().satisfies(f -> assertThat(f.vm()).isSameAs(red1));
        assertThat(host1.counters.drops(DropReason.BAD_TOKEN)).isZero();
    }

    @Test
    void overlappingAddressesReachTheirOwnNetworksVm() {
        host1.fromVm("red1", ipv4Frame(red1, IP2, 64));
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 65));
        assertThat(host2.delivered).extracting(f -> f.vm().name()).containsExactly("red2", "blue2");
    }

    @Test
    void theWaitingQueueIsBounded() {
        registry.deferred = true;
        for (int i = 0; i < Vnp.QUEUE_CAPACITY + 3; i++) {
            host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10));
        }
        assertThat(host1.counters.drops(DropReason.TOKEN_QUEUE_FULL)).isEqualTo(3);
        registry.completePending();
        assertThat(host2.delivered).hasSize(Vnp.QUEUE_CAPACITY);
    }

    @Test
    void refusedPairsAreDroppedAndRetriedOnlyAfterAPause() {
        host1.fromVm("blue1", ipv4Frame(blue1, Ipv4Address.parse("10.0.0.77"), 10));
        host1.fromVm("blue1", ipv4Frame(blue1, Ipv4Address.parse("10.0.0.77"), 10));
        assertThat(host1.counters.drops(DropReason.TOKEN_REFUSED)).isEqualTo(2);
        assertThat(registry.requests).isEqualTo(1);
        clock.update(clock.time() + 6_000);
        host1.fromVm("blue1", ipv4Frame(blue1, Ipv4Address.parse("10.0.0.77"), 10));
        assertThat(registry.requests).isEqualTo(2);
    }

    @Test
    void policyDeniedPairGetsNoTokenUnlessARuleAllowsIt() {
        host1.fromVm("red1", ipv4Frame(red1, IP3, 10)); // only blue has 10.0.0.3
        assertThat(host1.counters.drops(DropReason.TOKEN_REFUSED)).isEqualTo(1);
        registry.allow("red1", "blue2");
        // With a rule, red1's 10.0.0.2 would still be red2 (own network first); the rule matters for
        // addresses its own network does not have, which is the registry's concern (tested there).
        assertThat(host1.sent).isEmpty();
    }

    @Test
    void registryDownKeepsValidTokensWorkingAndCountsNewPairs() {
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10));
        assertThat(host2.delivered).hasSize(1);
        registry.down = true;

        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10));    // existing pair: still flows
        host1.fromVm("red1", ipv4Frame(red1, IP2, 10));      // new pair: waits, fails, counted
        host1.fromVm("red1", ipv4Frame(red1, IP2, 10));      // within the retry pause: dropped at once

        assertThat(host2.delivered).hasSize(2);
        assertThat(host1.counters.drops(DropReason.REGISTRY_UNAVAILABLE)).isEqualTo(2);

        registry.down = false;
        clock.update(clock.time() + 2_000);
        host1.fromVm("red1", ipv4Frame(red1, IP2, 10));
        assertThat(host2.delivered).hasSize(3);
    }

    @Test
    void tokensAreRenewedAheadOfExpirySoALongFlowNeverStalls() {
        registry.ttlSeconds = 100;
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10));
        long firstToken = tokenOf(host1.sent.getLast());
        clock.update(clock.time() + 81_000); // past 80 % of the life
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10));
        assertThat(registry.requests).as("renewal asked").isEqualTo(2);
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10));
        assertThat(tokenOf(host1.sent.getLast())).isNotEqualTo(firstToken);
        clock.update(clock.time() + 90_000); // the first token is long expired
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 10));
        assertThat(host2.delivered).hasSize(4);
        assertThat(host2.counters.drops(DropReason.TOKEN_EXPIRED)).isZero();
    }

    // ---- attacks on the receiving side ----

    @Test
    void forgedTokensAreDropped() {
        byte[] datagram = validDatagram();
        ByteBuffer.wrap(datagram).putLong(VnpHeader.TOKEN_OFFSET, 0x1234_5678_9ABC_DEF0L);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.BAD_TOKEN)).isEqualTo(1);
        assertThat(host2.delivered).isEmpty();
    }

    @Test
    void aTokenForAnotherDestinationIsDropped() {
        byte[] toBlue2 = validDatagram();
        // Same bytes at red2's port: the inner destination 10.0.0.2 matches red2's address, the key does not.
        host2.receive(red2, toBlue2, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.BAD_TOKEN)).isEqualTo(1);
        assertThat(host2.delivered).isEmpty();
    }

    @Test
    void aTokenReplayedFromAnotherHostOrPortIsDropped() {
        byte[] datagram = validDatagram();
        host2.receive(blue2, datagram, Ipv4Address.parse("10.255.0.9"), blue1.port());
        host2.receive(blue2, datagram, HOST1, blue1.port() + 1);
        assertThat(host2.counters.drops(DropReason.BAD_TOKEN)).isEqualTo(2);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.delivered).hasSize(1);
        // A cached success does not open the door to the same token from elsewhere.
        host2.receive(blue2, datagram, HOST1, blue1.port() + 1);
        assertThat(host2.counters.drops(DropReason.BAD_TOKEN)).isEqualTo(3);
    }

    @Test
    void expiredTokensAreDroppedAfterTheSkew() {
        registry.ttlSeconds = 60;
        byte[] datagram = validDatagram();
        clock.update(clock.time() + 63_000); // expired 3 s ago, within the 5 s skew
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.delivered).hasSize(1);
        clock.update(clock.time() + 3_000);  // 6 s past expiry
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.TOKEN_EXPIRED)).isEqualTo(1);
    }

    @Test
    void expiriesBeyondAnyIssuedTokenAreDropped() {
        byte[] datagram = validDatagram();
        ByteBuffer.wrap(datagram).putInt(VnpHeader.EXPIRY_OFFSET, (int) (clock.time() / 1000 + 10_000));
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.EXPIRY_TOO_FAR)).isEqualTo(1);
    }

    @Test
    void tokensThatNeverExpireAreAccepted() {
        registry.neverExpire = true;
        byte[] datagram = validDatagram();
        clock.update(clock.time() + 10L * 365 * 24 * 3600 * 1000);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.delivered).hasSize(1);
    }

    @Test
    void packetsForAVmThisPortIsNotReservedForAreDropped() {
        byte[] datagram = validDatagram();
        ByteBuffer.wrap(datagram).putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, IP3);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.WRONG_DESTINATION)).isEqualTo(1);
    }

    @Test
    void malformedDatagramsAreDropped() {
        byte[] good = validDatagram();
        host2.receive(blue2, new byte[0], HOST1, blue1.port());
        host2.receive(blue2, Arrays.copyOf(good, 20), HOST1, blue1.port());
        byte[] badIhl = good.clone();
        badIhl[VnpHeader.LENGTH] = 0x43;
        host2.receive(blue2, badIhl, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.MALFORMED_ENCAPSULATION)).isEqualTo(3);
        assertThat(host2.delivered).isEmpty();
    }

    // ---- checks on frames from a VM ----

    @Test
    void dropsSpoofedMalformedAndUnsupportedFramesByReason() {
        LocalVm impostor = blue3;
        host1.fromVm("blue1", ipv4FrameFrom(impostor.mac(), blue1.address(), IP2, 10)); // someone else's MAC
        host1.fromVm("blue1", ipv4FrameFrom(blue1.mac(), IP3, IP2, 10));                // someone else's address
        host1.fromVm("blue1", new byte[10]);
        byte[] ipv6 = ipv4Frame(blue1, IP2, 10);
        ByteBuffer.wrap(ipv6).putShort(12, (short) EthernetFrame.ETHER_TYPE_IPV6);
        host1.fromVm("blue1", ipv6);
        host1.fromVm("blue1", ipv4Frame(blue1, Ipv4Address.parse("10.0.0.255"), 10));
        host1.fromVm("blue1", ipv4Frame(blue1, Ipv4Address.parse("224.0.0.1"), 10));
        host1.fromVm("blue1", ipv4Frame(blue1, IP1, 10));
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 1500 - 28 - 16 - 20 + 1)); // one byte too big
        byte[] badLength = ipv4Frame(blue1, IP2, 10);
        ByteBuffer.wrap(badLength).putShort(14 + 2, (short) 900);
        host1.fromVm("blue1", badLength);

        assertThat(host1.counters.drops(DropReason.SPOOFED_SOURCE)).isEqualTo(2);
        assertThat(host1.counters.drops(DropReason.MALFORMED_FRAME)).isEqualTo(1);
        assertThat(host1.counters.drops(DropReason.UNSUPPORTED_ETHER_TYPE)).isEqualTo(1);
        assertThat(host1.counters.drops(DropReason.BROADCAST_NOT_FORWARDED)).isEqualTo(2);
        assertThat(host1.counters.drops(DropReason.HAIRPIN)).isEqualTo(1);
        assertThat(host1.counters.drops(DropReason.TOO_BIG)).isEqualTo(1);
        assertThat(host1.counters.drops(DropReason.MALFORMED_IPV4)).isEqualTo(1);
        assertThat(host1.sent).isEmpty();
        assertThat(registry.requests).isZero();
    }

    @Test
    void theLargestPacketThatFitsIsForwardedWithoutTheReturnTokenOption() {
        assertThat(OutboundForwarder.vmMtu(1500)).isEqualTo(1456);
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 1456 - 20));
        assertThat(host1.sent).singleElement().satisfies(d -> assertThat(d.bytes()).hasSize(1500 - 28));
        assertThat(host2.delivered).hasSize(1);
        assertThat(host1.value("token.return_sent")).as("no room for the option").isZero();
    }

    // ---- robustness ----

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 1234, 0xC0FFEE})
    void hostileDatagramsNeverThrowAndAreAllAccountedFor(long seed) {
        Random random = new Random(seed);
        byte[] good = validDatagram();
        long rxBefore = host2.value("underlay.rx_packets");
        long dropsBefore = totalDrops(host2);
        int datagrams = 3000;
        for (int i = 0; i < datagrams; i++) {
            byte[] bytes = random.nextInt(3) == 0 ? new byte[random.nextInt(1600)] : Arrays.copyOf(good, random.nextInt(good.length + 20));
            if (bytes.length > 0 && random.nextBoolean()) {
                random.nextBytes(bytes);
            }
            for (int flips = random.nextInt(4); flips > 0 && bytes.length > 0; flips--) {
                bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
            }
            host2.receive(blue2, bytes, HOST1, blue1.port());
        }
        assertThat(host2.value("underlay.rx_packets") - rxBefore).isEqualTo(datagrams);
        assertThat(totalDrops(host2) - dropsBefore + host2.delivered.size()).as("every datagram dropped or delivered")
                .isEqualTo(datagrams);
    }

    private static long totalDrops(TestHost host) {
        return host.counterFile.reader().snapshot().entrySet().stream()
                .filter(e -> e.getKey().startsWith("drop.")).mapToLong(e -> e.getValue()).sum();
    }

    @Test
    void theFastPathsAllocateNothingPerPacket() {
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 1000)); // establish the pair (allocates, once)
        Egress discard = new DiscardingEgress();
        LocalVms locals = new LocalVms(java.util.List.of(blue1, blue3, red1));
        OutboundForwarder out = new OutboundForwarder(blue1, locals, registry, discard, () -> discard, host1.counters, clock, 1500);
        InboundForwarder in = new InboundForwarder(blue2, host2.outbound.get("blue2"), discard, host2.counters, clock, 5, 600);
        byte[] frame = ipv4Frame(blue1, IP2, 1000);
        PacketBuffer outBuffer = PacketBuffer.allocate(OutboundForwarder.HEADROOM + frame.length + 64);
        byte[] datagram = validDatagram();
        PacketBuffer inBuffer = PacketBuffer.allocate(datagram.length);
        Runnable round = () -> {
            outBuffer.buffer().put(OutboundForwarder.HEADROOM, frame);
            out.fromVm(outBuffer, OutboundForwarder.HEADROOM, frame.length);
            inBuffer.buffer().put(0, datagram);
            in.fromUnderlay(inBuffer, 0, datagram.length, HOST1, blue1.port());
        };
        assertThat(bytesAllocatedAfterWarmUp(round)).as("bytes for 20,000 packets").isLessThan(1024);
    }

    // ---- additional addresses (allowed address pairs) ----

    @Test
    void aVmMaySendFromAnAdditionalAddressItOwns() {
        host1.deliverUnderlay = false;
        blue1.setAdditionalAddresses(new int[]{VIP});
        host1.fromVm("blue1", ipv4FrameFrom(blue1.mac(), VIP, IP2, 10));

        assertThat(host1.counters.drops(DropReason.SPOOFED_SOURCE)).isZero();
        assertThat(host1.sent).singleElement().satisfies(d -> {
            assertThat(d.host()).isEqualTo(HOST2);
            assertThat(d.port()).isEqualTo(blue2.port());
            assertThat(ByteBuffer.wrap(d.bytes()).getInt(VnpHeader.LENGTH + Ipv4Packet.SOURCE_OFFSET)).isEqualTo(VIP);
        });
    }

    @Test
    void aSourceTheVmDoesNotOwnIsStillSpoofedAndArpClaimsOnlyItsOwnAddress() {
        blue1.setAdditionalAddresses(new int[]{VIP});
        blue3.setAdditionalAddresses(new int[]{VIP2});
        host1.fromVm("blue1", ipv4FrameFrom(blue1.mac(), VIP2, IP2, 10));                       // blue3's, not blue1's
        host1.fromVm("blue1", ipv4FrameFrom(blue1.mac(), Ipv4Address.parse("203.0.113.11"), IP2, 10));
        host1.fromVm("blue1", ipv4FrameFrom(blue3.mac(), VIP, IP2, 10));                         // its VIP, another MAC
        byte[] arp = new byte[42];
        ByteBuffer b = ByteBuffer.wrap(arp);
        EthernetFrame.writeHeader(b, 0, MacAddress.BROADCAST, blue1.mac(), EthernetFrame.ETHER_TYPE_ARP);
        ArpPacket.writeRequest(b, 14, blue1.mac(), VIP, IP2);
        host1.fromVm("blue1", arp);

        assertThat(host1.counters.drops(DropReason.SPOOFED_SOURCE)).isEqualTo(4);
        assertThat(host1.sent).isEmpty();
        assertThat(host1.delivered).isEmpty();
        assertThat(registry.requests).isZero();
    }

    @Test
    void packetsToAnAdditionalAddressAreDeliveredWithTheTokenOverTheVmsOwnAddress() {
        blue2.setAdditionalAddresses(new int[]{VIP2, VIP});
        byte[] datagram = validDatagram(); // its token is over blue2's own address, 10.0.0.2
        ByteBuffer.wrap(datagram).putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, VIP);
        host2.receive(blue2, datagram, HOST1, blue1.port());

        assertThat(host2.delivered).singleElement().satisfies(f -> {
            assertThat(f.vm()).isSameAs(blue2);
            assertThat(ByteBuffer.wrap(f.bytes()).getInt(14 + Ipv4Packet.DESTINATION_OFFSET)).isEqualTo(VIP);
        });
        assertThat(host2.counters.drops(DropReason.WRONG_DESTINATION)).isZero();

        // The token still binds the VM's own address: a forged one is refused at the VIP too.
        ByteBuffer.wrap(datagram).putLong(VnpHeader.TOKEN_OFFSET, 0x1234_5678_9ABC_DEF0L);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.BAD_TOKEN)).isEqualTo(1);
    }

    @Test
    void packetsToAnAddressTheVmDoesNotOwnAreStillWrongDestination() {
        blue2.setAdditionalAddresses(new int[]{VIP});
        red2.setAdditionalAddresses(new int[]{VIP2});
        byte[] datagram = validDatagram();
        ByteBuffer.wrap(datagram).putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, VIP2); // red2's, not blue2's
        host2.receive(blue2, datagram, HOST1, blue1.port());
        ByteBuffer.wrap(datagram).putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, Ipv4Address.parse("203.0.113.11"));
        host2.receive(blue2, datagram, HOST1, blue1.port());

        assertThat(host2.counters.drops(DropReason.WRONG_DESTINATION)).isEqualTo(2);
        assertThat(host2.delivered).isEmpty();
    }

    @Test
    void additionalAddressesAreReplacedAtRuntime() {
        host1.deliverUnderlay = false;
        byte[] datagram = validDatagram();
        ByteBuffer inner = ByteBuffer.wrap(datagram);

        blue2.setAdditionalAddresses(new int[]{VIP});
        inner.putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, VIP);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.delivered).hasSize(1);

        blue2.setAdditionalAddresses(new int[]{VIP2, VIP2, blue2.address()});
        assertThat(blue2.additionalAddresses()).as("duplicates and its own address left out").containsExactly(VIP2);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.WRONG_DESTINATION)).as("the VIP it gave up").isEqualTo(1);
        inner.putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, VIP2);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.delivered).hasSize(2);

        blue2.setAdditionalAddresses(new int[0]);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.counters.drops(DropReason.WRONG_DESTINATION)).isEqualTo(2);
        inner.putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, IP2);
        host2.receive(blue2, datagram, HOST1, blue1.port());
        assertThat(host2.delivered).as("its own address always").hasSize(3);

        // The sending side follows the same set.
        int sentBefore = host1.sent.size();
        blue1.setAdditionalAddresses(new int[]{VIP});
        host1.fromVm("blue1", ipv4FrameFrom(blue1.mac(), VIP, IP2, 10));
        blue1.setAdditionalAddresses(new int[0]);
        host1.fromVm("blue1", ipv4FrameFrom(blue1.mac(), VIP, IP2, 10));
        assertThat(host1.sent).hasSize(sentBefore + 1);
        assertThat(host1.counters.drops(DropReason.SPOOFED_SOURCE)).isEqualTo(1);
    }

    @Test
    void theAdditionalAddressChecksAllocateNothingPerPacket() {
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 1000)); // establish the pair (allocates, once)
        blue1.setAdditionalAddresses(new int[]{VIP2, VIP});
        blue2.setAdditionalAddresses(new int[]{VIP2, VIP});
        Egress discard = new DiscardingEgress();
        LocalVms locals = new LocalVms(java.util.List.of(blue1, blue3, red1));
        OutboundForwarder out = new OutboundForwarder(blue1, locals, registry, discard, () -> discard, host1.counters, clock, 1500);
        InboundForwarder in = new InboundForwarder(blue2, host2.outbound.get("blue2"), discard, host2.counters, clock, 5, 600);
        byte[] frame = ipv4FrameFrom(blue1.mac(), VIP, IP2, 1000);
        PacketBuffer outBuffer = PacketBuffer.allocate(OutboundForwarder.HEADROOM + frame.length + 64);
        byte[] datagram = validDatagram();
        ByteBuffer.wrap(datagram).putInt(VnpHeader.LENGTH + Ipv4Packet.DESTINATION_OFFSET, VIP);
        PacketBuffer inBuffer = PacketBuffer.allocate(datagram.length);
        long dropsBefore = host1.counters.drops(DropReason.SPOOFED_SOURCE) + host2.counters.drops(DropReason.WRONG_DESTINATION);
        Runnable round = () -> {
            outBuffer.buffer().put(OutboundForwarder.HEADROOM, frame);
            out.fromVm(outBuffer, OutboundForwarder.HEADROOM, frame.length);
            inBuffer.buffer().put(0, datagram);
            in.fromUnderlay(inBuffer, 0, datagram.length, HOST1, blue1.port());
        };
        assertThat(bytesAllocatedAfterWarmUp(round)).as("bytes for 20,000 packets").isLessThan(1024);
        assertThat(host1.counters.drops(DropReason.SPOOFED_SOURCE) + host2.counters.drops(DropReason.WRONG_DESTINATION))
                .isEqualTo(dropsBefore);
    }

    // ---- helpers ----

    /** A datagram host1 really sent from blue1 to blue2 (with a valid token), and it was delivered once. */
    private byte[] validDatagram() {
        int before = host1.sent.size();
        host1.fromVm("blue1", ipv4Frame(blue1, IP2, 40));
        assertThat(host1.sent).hasSize(before + 1);
        host2.delivered.clear();
        byte[] datagram = host1.sent.getLast().bytes();
        // Strip the return-token option so tests see the plain layout; the token does not cover options.
        VnpHeader header = new VnpHeader();
        header.wrap(ByteBuffer.wrap(datagram), 0, datagram.length);
        byte[] plain = Arrays.copyOf(datagram, VnpHeader.LENGTH + header.innerLength());
        plain[VnpHeader.FLAGS_OFFSET] = 0;
        return plain;
    }

    private static long tokenOf(TestHost.Datagram datagram) {
        return ByteBuffer.wrap(datagram.bytes()).getLong(VnpHeader.TOKEN_OFFSET);
    }

    static byte[] ipv4Frame(LocalVm from, int destination, int payload) {
        return ipv4FrameFrom(from.mac(), from.address(), destination, payload);
    }

    static byte[] ipv4FrameFrom(long sourceMac, int source, int destination, int payload) {
        byte[] frame = new byte[14 + 20 + payload];
        ByteBuffer b = ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(b, 0, OutboundForwarder.GATEWAY_MAC, sourceMac, EthernetFrame.ETHER_TYPE_IPV4);
        Ipv4Packet.writeHeader(b, 14, 20 + payload, 7, 64, Ipv4Packet.PROTOCOL_UDP, source, destination);
        return frame;
    }

    static byte[] arpRequest(LocalVm from, int target) {
        byte[] frame = new byte[42];
        ByteBuffer b = ByteBuffer.wrap(frame);
        EthernetFrame.writeHeader(b, 0, MacAddress.BROADCAST, from.mac(), EthernetFrame.ETHER_TYPE_ARP);
        ArpPacket.writeRequest(b, 14, from.mac(), from.address(), target);
        return frame;
    }


    /** Bytes this thread allocates in 10,000 rounds (one packet each way), after 30,000 to warm up the JIT. */
    private static long bytesAllocatedAfterWarmUp(Runnable round) {
        for (int i = 0; i < 30_000; i++) {
            round.run();
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            round.run();
        }
        return threads.getCurrentThreadAllocatedBytes() - before;
    }
}
