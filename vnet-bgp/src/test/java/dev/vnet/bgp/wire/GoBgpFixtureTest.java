package dev.vnet.bgp.wire;

import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Messages captured from GoBGP 3.10 (the Debian package's gobgpd) on an iBGP session in AS 64512 with
 * l3vpn-ipv4-unicast, after {@code gobgp global rib -a vpnv4 add 10.77.0.0/24 label 777 rd 192.0.2.61:5
 * rt 64512:777 encap vxlan nexthop 192.0.2.61} and the matching {@code del}.
 */
class GoBgpFixtureTest {
    private static final HexFormat HEX = HexFormat.of();
    /** All capabilities in one optional parameter, among them FQDN (73) and extended next hop (5), which this speaker does not know. */
    static final String OPEN = "ffffffffffffffffffffffffffffffff003b0104fc00005a0aff00471e021c0200490402766d0001040001008041040000fc000506000100800002";
    /** Attributes in type order (MP_REACH_NLRI fourth, not first as RFC 7606 §5.1 asks of new senders). */
    static final String UPDATE = "ffffffffffffffffffffffffffffffff005b02000000444001010240020040050400000064800e200001800c0000000000000000c000023d"
            + "00700030910001c000023d00050a4d00c010100002fc0000000309030c000000000008";
    /** The withdrawal carries the route's label, not 0x800000: a receiver must not rely on either. */
    static final String WITHDRAW = "ffffffffffffffffffffffffffffffff002c0200000015800f12000180700030910001c000023d00050a4d00";

    @Test
    void goBgpsOpenDecodesWithItsUnknownCapabilitiesKept() {
        Open open = (Open) RawMessages.decodeOne(HEX.parseHex(OPEN));

        assertThat(open.as()).isEqualTo(64512);
        assertThat(open.holdTime()).isEqualTo(90);
        assertThat(open.bgpIdentifier()).isEqualTo(Ipv4Address.parse("10.255.0.71"));
        assertThat(open.has(Capability.Multiprotocol.VPN_IPV4)).isTrue();
        assertThat(open.supportsFourOctetAs()).isTrue();
        assertThat(open.vnetExtensionVersion()).isZero();
        assertThat(open.capabilities()).filteredOn(c -> c instanceof Capability.Unknown).extracting(Capability::code)
                .containsExactlyInAnyOrder(73, 5);
    }

    @Test
    void goBgpsVpnUpdateDecodesToTheRouteItWasGiven() {
        Update update = (Update) RawMessages.decodeOne(HEX.parseHex(UPDATE));

        assertThat(update.problem()).isNull();
        assertThat(update.reach().size()).isEqualTo(1);
        assertThat(new RouteDistinguisher(update.reach().rd(0))).isEqualTo(RouteDistinguisher.parse("192.0.2.61:5"));
        assertThat(new Ipv4Prefix(update.reach().address(0), update.reach().prefixLength(0))).isEqualTo(Ipv4Prefix.parse("10.77.0.0/24"));
        assertThat(update.reach().label(0)).isEqualTo(777);
        PathAttributes attributes = update.attributes();
        assertThat(attributes.nextHop()).isEqualTo(Ipv4Address.parse("192.0.2.61"));
        assertThat(attributes.localPref()).isEqualTo(100);
        assertThat(attributes.asPath()).isEqualTo(AsPath.EMPTY);
        assertThat(attributes.extendedCommunityList()).containsExactly(ExtendedCommunity.routeTargetForNetwork(64512, 777),
                ExtendedCommunity.encapsulation(TunnelType.VXLAN));
    }

    @Test
    void goBgpsWithdrawalDecodes() {
        Update update = (Update) RawMessages.decodeOne(HEX.parseHex(WITHDRAW));

        assertThat(update.withdrawn().size()).isEqualTo(1);
        assertThat(new Ipv4Prefix(update.withdrawn().address(0), update.withdrawn().prefixLength(0))).isEqualTo(Ipv4Prefix.parse("10.77.0.0/24"));
        assertThat(update.attributes()).isNull();
    }

    @Test
    void whatWeWouldSendForTheSameRouteDecodesTheSame() {
        Update goBgp = (Update) RawMessages.decodeOne(HEX.parseHex(UPDATE));

        Update ours = (Update) RawMessages.decodeOne(RawMessages.encode(Update.reach(goBgp.attributes(), goBgp.reach()), true));

        assertThat(ours.attributes()).isEqualTo(goBgp.attributes());
        assertThat(ours.reach()).isEqualTo(goBgp.reach());
    }
}
