package dev.vnet.bgp.wire;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static dev.vnet.bgp.wire.RawMessages.decode;
import static dev.vnet.bgp.wire.RawMessages.decodeOne;
import static dev.vnet.bgp.wire.RawMessages.encode;
import static org.assertj.core.api.Assertions.assertThat;

class BgpCodecTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void openRoundTripsWithEveryKindOfCapability() {
        Open open = Open.of(4_200_000_001L, 90, 0x0A000001, List.of(
                Capability.Multiprotocol.VPN_IPV4, new Capability.RouteRefresh(), new Capability.FourOctetAs(4_200_000_001L),
                new Capability.VnetExtension(3), new Capability.Unknown(73, new byte[] {1, 2, 3})));

        Open decoded = (Open) decodeOne(encode(open, true));

        assertThat(decoded).isEqualTo(open);
        assertThat(decoded.myAsField()).isEqualTo(AsPath.AS_TRANS);
        assertThat(decoded.as()).isEqualTo(4_200_000_001L);
        assertThat(decoded.vnetExtensionVersion()).isEqualTo(3);
    }

    @Test
    void openMatchesTheRfcLayoutOctetForOctet() {
        Open open = Open.of(65001, 180, 0x01020304, List.of(Capability.Multiprotocol.VPN_IPV4));

        assertThat(HEX.formatHex(encode(open, true))).isEqualTo(
                "ffffffffffffffffffffffffffffffff" + "0025" + "01"  // header: length 37, OPEN
                        + "04" + "fde9" + "00b4" + "01020304"    // version 4, AS 65001, hold 180, identifier
                        + "08" + "0206" + "0104" + "00010080"); // params 8: capabilities 6: MP 4: AFI 1, SAFI 128
    }

    @Test
    void aCapabilityFromAnotherExperimentOnTheVnetCodeIsKeptAsUnknown() {
        byte[] body = HEX.parseHex("04fde900b401020304" + "06" + "0204" + "f0020001");

        Open open = (Open) decodeOne(RawMessages.message(BgpMessage.TYPE_OPEN, body));

        assertThat(open.vnetExtensionVersion()).isZero();
        assertThat(open.capabilities()).containsExactly(new Capability.Unknown(240, new byte[] {0, 1}));
    }

    @Test
    void openWithExtendedOptionalParametersLengthIsRead() {
        // RFC 9072: opt. param. length 255, type 255, then a 2-octet length and 2-octet parameter lengths
        byte[] body = HEX.parseHex("04fde900b401020304" + "ff" + "ff" + "0007" + "02" + "0004" + "41" + "02" + "fde9");

        Open open = (Open) decodeOne(RawMessages.message(BgpMessage.TYPE_OPEN, body));

        assertThat(open.capabilities()).hasSize(1);
    }

    @Test
    void keepaliveNotificationAndRouteRefreshRoundTrip() {
        List<BgpMessage> messages = List.of(Keepalive.INSTANCE, new Notification(6, 2, new byte[] {'b', 'y', 'e'}), RouteRefresh.VPN_IPV4);
        byte[] bytes = RawMessages.concat(messages.stream().map(m -> encode(m, true)).toArray(byte[][]::new));

        assertThat(decode(bytes)).containsExactlyElementsOf(messages);
        assertThat(HEX.formatHex(encode(Keepalive.INSTANCE, true))).isEqualTo("ffffffffffffffffffffffffffffffff001304");
    }

    @Test
    void vpnUpdateMatchesAHandDecodedMessage() {
        PathAttributes attributes = PathAttributes.builder().origin(PathAttributes.ORIGIN_IGP).asPath(AsPath.EMPTY)
                .nextHop(0xC0000201).localPref(100)
                .extendedCommunities(List.of(ExtendedCommunity.routeTargetForNetwork(64512, 1001), ExtendedCommunity.encapsulation(TunnelType.VXLAN)))
                .build();
        VpnNlriList nlri = new VpnNlriList();
        nlri.add(RouteDistinguisher.forHost(0xC0000201, 7), Ipv4Prefix.parse("10.1.2.0/24"), 1001);

        String hex = HEX.formatHex(encode(Update.reach(attributes, nlri), true));

        assertThat(hex).isEqualTo("ffffffffffffffffffffffffffffffff" + "005c" + "02"          // 92 octets, UPDATE
                + "0000" + "0045"                                                            // no withdrawn, 69 octets of attributes
                + "900e" + "0020" + "0001" + "80" + "0c" + "0000000000000000" + "c0000201" + "00" // MP_REACH first: NH = RD 0 + 192.0.2.1
                + "70" + "003e91" + "0001c00002010007" + "0a0102"                          // 112 bits: label 1001 S=1, RD 192.0.2.1:7, 10.1.2/24
                + "40010100" + "400200" + "40050400000064"                                 // ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100
                + "c01010" + "0002fc00000003e9" + "030c000000000008");                     // RT 64512:1001, encapsulation VXLAN
        Update decoded = (Update) decodeOne(HEX.parseHex(hex));
        assertThat(decoded.attributes()).isEqualTo(attributes);
        assertThat(decoded.reach()).isEqualTo(nlri);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
    void randomUpdatesRoundTripAcrossAsManyMessagesAsTheyNeed(long seed) {
        Random random = new Random(seed);
        for (boolean fourOctetAs : new boolean[] {true, false}) {
            PathAttributes attributes = randomAttributes(random);
            VpnNlriList reach = randomNlri(random, 1 + random.nextInt(1200));
            VpnNlriList withdrawn = randomNlri(random, random.nextInt(600));

            byte[] bytes = encode(Update.of(attributes, reach, withdrawn), fourOctetAs);
            List<Object> decoded = decode(bytes, fourOctetAs);

            VpnNlriList reachBack = new VpnNlriList();
            VpnNlriList withdrawnBack = new VpnNlriList();
            for (Object message : decoded) {
                Update update = (Update) message;
                assertThat(update.problem()).isNull();
                if (!update.reach().isEmpty()) {
                    assertThat(update.attributes()).isEqualTo(attributes);
                }
                copy(update.reach(), reachBack, false);
                copy(update.withdrawn(), withdrawnBack, true);
            }
            assertThat(reachBack).isEqualTo(reach);
            VpnNlriList expectedWithdrawn = new VpnNlriList();
            copy(withdrawn, expectedWithdrawn, true);
            assertThat(withdrawnBack).isEqualTo(expectedWithdrawn);
            assertThat(decoded.size()).isGreaterThanOrEqualTo(2);
            assertThat(bytes.length).isLessThanOrEqualTo(decoded.size() * BgpMessage.MAX_LENGTH);
        }
    }

    @Test
    void manyRoutesArePackedIntoFewUpdates() {
        VpnNlriList reach = randomNlri(new Random(1), 1000);
        PathAttributes attributes = PathAttributes.builder().origin(0).asPath(AsPath.EMPTY).nextHop(0x0A000001).localPref(100)
                .extendedCommunities(List.of(ExtendedCommunity.routeTargetForNetwork(64512, 1))).build();

        List<Object> decoded = decode(encode(Update.reach(attributes, reach), true));

        // a /32 NLRI takes 16 octets, so at least (4096 - 100) / 16 = 249 fit in each
        assertThat(decoded).hasSizeLessThanOrEqualTo((1000 + 248) / 249);
    }

    @Test
    void aTwoOctetAsSessionCarriesLargeAsnsInAs4Path() {
        PathAttributes attributes = PathAttributes.builder().origin(0).asPath(AsPath.sequence(65001, (int) 4_200_000_001L, 65002))
                .nextHop(1).aggregator((4_200_000_002L << 32) | 0x0A000001L).build();
        VpnNlriList reach = randomNlri(new Random(3), 3);

        byte[] bytes = encode(Update.reach(attributes, reach), false);
        Update decoded = (Update) decode(bytes, false).getFirst();

        assertThat(HEX.formatHex(bytes)).contains("5ba0"); // AS_TRANS in the 2-octet AS_PATH
        assertThat(decoded.attributes().asPath()).isEqualTo(attributes.asPath());
        assertThat(decoded.attributes().aggregator()).isEqualTo(attributes.aggregator());
    }

    @Test
    void endOfRibIsAnEmptyMpUnreach() {
        Update decoded = (Update) decodeOne(encode(Update.endOfRib(), true));

        assertThat(decoded.isEndOfRib()).isTrue();
        assertThat(Update.reach(PathAttributes.builder().build(), randomNlri(new Random(1), 1)).isEndOfRib()).isFalse();
    }

    @Test
    void messagesSplitAtEveryOctetBoundaryDecodeTheSame() {
        byte[] bytes = RawMessages.concat(
                encode(Open.of(65001, 90, 7, List.of(Capability.Multiprotocol.VPN_IPV4)), true),
                encode(Keepalive.INSTANCE, true),
                encode(Update.reach(randomAttributes(new Random(5)), randomNlri(new Random(5), 40)), true));
        List<Object> whole = decode(bytes);

        EmbeddedChannel channel = new EmbeddedChannel(new BgpMessageDecoder());
        for (byte b : bytes) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        List<Object> piecewise = new ArrayList<>();
        for (Object message; (message = channel.readInbound()) != null; ) {
            piecewise.add(message);
        }

        assertThat(piecewise).hasSize(3);
        assertThat(piecewise.get(0)).isEqualTo(whole.get(0));
        assertThat(((Update) piecewise.get(2)).reach()).isEqualTo(((Update) whole.get(2)).reach());
    }

    @Test
    void routeDistinguishersAndRouteTargetsParseAndPrintInEveryType() {
        assertThat(RouteDistinguisher.parse("65000:4000000000").type()).isEqualTo(RouteDistinguisher.TYPE_AS2);
        assertThat(RouteDistinguisher.parse("192.0.2.1:7")).isEqualTo(RouteDistinguisher.forHost(0xC0000201, 7));
        assertThat(RouteDistinguisher.parse("4200000000:9").type()).isEqualTo(RouteDistinguisher.TYPE_AS4);
        for (String text : List.of("65000:4000000000", "192.0.2.1:7", "4200000000:9")) {
            assertThat(RouteDistinguisher.parse(text).toString()).isEqualTo(text);
            assertThat(ExtendedCommunity.parse("target:" + text).toString()).isEqualTo("target:" + text);
            assertThat(ExtendedCommunity.parse("target:" + text).isRouteTarget()).isTrue();
        }
        assertThat(ExtendedCommunity.parse("encap:vnp").tunnelType()).isEqualTo(TunnelType.VNP);
        assertThat(ExtendedCommunity.encapsulation(TunnelType.VXLAN).toString()).isEqualTo("encap:VXLAN");
        assertThat(Ipv4Prefix.parse("10.1.2.3/24")).isEqualTo(Ipv4Prefix.parse("10.1.2.0/24"));
    }

    private static void copy(VpnNlriList from, VpnNlriList to, boolean asWithdrawal) {
        for (int i = 0; i < from.size(); i++) {
            to.add(from.rd(i), from.address(i), from.prefixLength(i), asWithdrawal ? VpnNlriList.WITHDRAW_LABEL_ENTRY : from.labelEntry(i));
        }
    }

    static VpnNlriList randomNlri(Random random, int count) {
        VpnNlriList list = new VpnNlriList();
        for (int i = 0; i < count; i++) {
            RouteDistinguisher rd = switch (random.nextInt(3)) {
                case 0 -> RouteDistinguisher.as2(random.nextInt(65536), random.nextLong(1L << 32));
                case 1 -> RouteDistinguisher.ipv4(random.nextInt(), random.nextInt(65536));
                default -> RouteDistinguisher.as4(random.nextLong(1L << 32), random.nextInt(65536));
            };
            int length = random.nextInt(33);
            list.add(rd, new Ipv4Prefix(random.nextInt(), length), random.nextInt(VpnNlriList.MAX_LABEL + 1));
        }
        return list;
    }

    static PathAttributes randomAttributes(Random random) {
        PathAttributes.Builder builder = PathAttributes.builder().origin(random.nextInt(3)).nextHop(random.nextInt());
        AsPath path = AsPath.EMPTY;
        for (int i = random.nextInt(6); i > 0; i--) {
            path = path.prepend(random.nextBoolean() ? random.nextInt(65536) : random.nextInt());
        }
        builder.asPath(path);
        if (random.nextBoolean()) {
            builder.med(random.nextLong(1L << 32));
        }
        if (random.nextBoolean()) {
            builder.localPref(random.nextLong(1L << 32));
        }
        if (random.nextBoolean()) {
            builder.communities(new int[] {random.nextInt(), random.nextInt()});
        }
        if (random.nextBoolean()) {
            builder.originatorId(random.nextLong(1L << 32)).clusterList(new int[] {random.nextInt(), random.nextInt(), random.nextInt()});
        }
        List<ExtendedCommunity> communities = new ArrayList<>();
        for (int i = random.nextInt(4); i > 0; i--) {
            communities.add(ExtendedCommunity.routeTargetAs2(random.nextInt(65536), random.nextLong(1L << 32)));
        }
        communities.add(ExtendedCommunity.encapsulation(random.nextBoolean() ? TunnelType.VXLAN : TunnelType.VNP));
        builder.extendedCommunities(communities);
        if (random.nextBoolean()) {
            byte[] value = new byte[random.nextInt(300)];
            random.nextBytes(value);
            builder.unknownTransitive(new RawAttribute[] {new RawAttribute(0xC0, 200 + random.nextInt(50), value)});
        }
        return builder.build();
    }
}
