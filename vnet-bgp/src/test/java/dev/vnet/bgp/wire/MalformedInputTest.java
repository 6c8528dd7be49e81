package dev.vnet.bgp.wire;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HexFormat;
import java.util.List;

import static dev.vnet.bgp.wire.RawMessages.asPath;
import static dev.vnet.bgp.wire.RawMessages.attribute;
import static dev.vnet.bgp.wire.RawMessages.concat;
import static dev.vnet.bgp.wire.RawMessages.decode;
import static dev.vnet.bgp.wire.RawMessages.decodeOne;
import static dev.vnet.bgp.wire.RawMessages.message;
import static dev.vnet.bgp.wire.RawMessages.mpReach;
import static dev.vnet.bgp.wire.RawMessages.mpUnreach;
import static dev.vnet.bgp.wire.RawMessages.origin;
import static dev.vnet.bgp.wire.RawMessages.update;
import static dev.vnet.bgp.wire.RawMessages.updateBody;
import static dev.vnet.bgp.wire.RawMessages.vpnNlri;
import static org.assertj.core.api.Assertions.assertThat;

/** What the decoder makes of malformed input: the NOTIFICATION a session answers with, or RFC 7606 handling. */
class MalformedInputTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] NLRI = vpnNlri(1001, RouteDistinguisher.forHost(0x0A000001, 1).value(), 0x0A010100, 24);
    private static final byte[] ROUTE = mpReach(0x0A000001, NLRI);

    private static DecodeError error(byte[] bytes) {
        Object decoded = decodeOne(bytes);
        assertThat(decoded).isInstanceOf(DecodeError.class);
        return (DecodeError) decoded;
    }

    private static Update updateOf(byte[] bytes) {
        Object decoded = decodeOne(bytes);
        assertThat(decoded).isInstanceOf(Update.class);
        return (Update) decoded;
    }

    @Test
    void aBadMarkerIsConnectionNotSynchronized() {
        byte[] keepalive = message(BgpMessage.TYPE_KEEPALIVE, new byte[0]);
        keepalive[5] = 0;

        DecodeError error = error(keepalive);

        assertThat(error.code()).isEqualTo(BgpError.MESSAGE_HEADER);
        assertThat(error.subcode()).isEqualTo(BgpError.CONNECTION_NOT_SYNCHRONIZED);
    }

    @ParameterizedTest(name = "type {0} with length {1}")
    @CsvSource({"4, 18", "4, 0", "4, 4097", "4, 65535", "4, 20", "1, 28", "2, 22", "5, 22", "5, 24", "3, 20"})
    void aBadLengthIsBadMessageLengthWithTheLengthAsData(int type, int length) {
        byte[] body = new byte[Math.max(0, Math.min(length, 200) - 19)];

        DecodeError error = error(message(type, body, length));

        assertThat(error.code()).isEqualTo(BgpError.MESSAGE_HEADER);
        assertThat(error.subcode()).isEqualTo(BgpError.BAD_MESSAGE_LENGTH);
        assertThat(error.data()).containsExactly(length >>> 8, length & 0xFF);
        assertThat(error.answer()).isEqualTo(type != BgpMessage.TYPE_NOTIFICATION);
    }

    @Test
    void aBadLengthIsAnsweredWithoutWaitingForTheBodyItClaims() {
        byte[] header = message(BgpMessage.TYPE_UPDATE, new byte[0], 5000);

        assertThat(error(header).subcode()).isEqualTo(BgpError.BAD_MESSAGE_LENGTH);
    }

    @Test
    void anUnknownTypeIsBadMessageTypeWithTheType() {
        DecodeError error = error(message(9, new byte[4]));

        assertThat(error.code()).isEqualTo(BgpError.MESSAGE_HEADER);
        assertThat(error.subcode()).isEqualTo(BgpError.BAD_MESSAGE_TYPE);
        assertThat(error.data()).containsExactly(9);
    }

    @Test
    void nothingIsDecodedAfterAnError() {
        byte[] bad = message(9, new byte[4]);
        byte[] keepalive = message(BgpMessage.TYPE_KEEPALIVE, new byte[0]);

        List<Object> decoded = decode(concat(keepalive, bad, keepalive, keepalive));

        assertThat(decoded).hasSize(2);
        assertThat(decoded.get(0)).isEqualTo(Keepalive.INSTANCE);
        assertThat(decoded.get(1)).isInstanceOf(DecodeError.class);
    }

    @Test
    void openErrors() {
        DecodeError version = error(message(BgpMessage.TYPE_OPEN, HEX.parseHex("03fde900b40102030400")));
        assertThat(version.code()).isEqualTo(BgpError.OPEN_MESSAGE);
        assertThat(version.subcode()).isEqualTo(BgpError.UNSUPPORTED_VERSION);
        assertThat(version.data()).containsExactly(0, 4);

        DecodeError parameter = error(message(BgpMessage.TYPE_OPEN, HEX.parseHex("04fde900b401020304" + "03" + "010100")));
        assertThat(parameter.subcode()).isEqualTo(BgpError.UNSUPPORTED_OPTIONAL_PARAMETER);

        DecodeError truncated = error(message(BgpMessage.TYPE_OPEN, HEX.parseHex("04fde900b401020304" + "04" + "02024104")));
        assertThat(truncated.code()).isEqualTo(BgpError.OPEN_MESSAGE);
        assertThat(truncated.subcode()).isZero();

        DecodeError lengthLies = error(message(BgpMessage.TYPE_OPEN, HEX.parseHex("04fde900b401020304" + "09" + "02024100")));
        assertThat(lengthLies.subcode()).isZero();
    }

    @Test
    void aValidRouteDecodesCleanly() {
        Update update = updateOf(update(ROUTE, origin(0), asPath()));

        assertThat(update.problem()).isNull();
        assertThat(update.reach().size()).isEqualTo(1);
        assertThat(update.reach().label(0)).isEqualTo(1001);
        assertThat(update.attributes().nextHop()).isEqualTo(0x0A000001);
    }

    @Test
    void anUnrecognizedWellKnownAttributeEndsTheSessionWithTheAttributeAsData() {
        byte[] unknown = attribute(0x40, 99, new byte[] {1, 2});

        DecodeError error = error(update(ROUTE, origin(0), asPath(), unknown));

        assertThat(error.code()).isEqualTo(BgpError.UPDATE_MESSAGE);
        assertThat(error.subcode()).isEqualTo(BgpError.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE);
        assertThat(error.data()).isEqualTo(unknown);
    }

    @Test
    void anUnrecognizedOptionalNonTransitiveAttributeIsQuietlyIgnored() {
        Update update = updateOf(update(ROUTE, origin(0), asPath(), attribute(0x80, 99, new byte[] {1, 2})));

        assertThat(update.problem()).isNull();
        assertThat(update.attributes().unknownTransitive()).isNull();
    }

    @Test
    void anUnrecognizedOptionalTransitiveAttributeIsKeptAndPassedOnWithPartialSet() {
        Update update = updateOf(update(ROUTE, origin(0), asPath(), attribute(0xC0, 99, new byte[] {1, 2})));

        assertThat(update.problem()).isNull();
        assertThat(update.attributes().unknownTransitive()).containsExactly(new RawAttribute(0xC0, 99, new byte[] {1, 2}));
        byte[] passedOn = RawMessages.encode(Update.reach(update.attributes(), update.reach()), true);
        assertThat(HEX.formatHex(passedOn)).endsWith("e063020102");
    }

    @Test
    void anAttributeOverrunningTheListAfterMpReachIsTreatAsWithdraw() {
        byte[] overrun = attribute(0x40, PathAttributes.LOCAL_PREF, new byte[] {0, 0, 0, 100});
        overrun[2] = 9; // claims 9 octets, 4 follow
        Update update = updateOf(update(ROUTE, origin(0), asPath(), overrun));

        assertThat(update.treatAsWithdraw()).isTrue();
        assertThat(update.reach().size()).isEqualTo(1);
        assertThat(update.problem().subcode()).isEqualTo(BgpError.MALFORMED_ATTRIBUTE_LIST);
    }

    @Test
    void aTruncatedAttributeHeaderAfterMpReachIsTreatAsWithdraw() {
        Update update = updateOf(update(ROUTE, origin(0), asPath(), new byte[] {0x40, 5}));

        assertThat(update.treatAsWithdraw()).isTrue();
    }

    @Test
    void anOverrunBeforeAnyMpReachEndsTheSessionBecauseItsRoutesCannotBeFound() {
        byte[] overrun = origin(0);
        overrun[2] = 40;

        DecodeError error = error(update(overrun, ROUTE));

        assertThat(error.code()).isEqualTo(BgpError.UPDATE_MESSAGE);
        assertThat(error.subcode()).isEqualTo(BgpError.MALFORMED_ATTRIBUTE_LIST);
    }

    @Test
    void truncatedVpnNlriInMpReachEndsTheSessionWithOptionalAttributeError() {
        byte[] truncated = java.util.Arrays.copyOf(NLRI, NLRI.length - 1);
        byte[] reach = mpReach(0x0A000001, truncated);

        DecodeError error = error(update(reach, origin(0), asPath()));

        assertThat(error.subcode()).isEqualTo(BgpError.OPTIONAL_ATTRIBUTE_ERROR);
        assertThat(error.data()).isEqualTo(reach);
    }

    @Test
    void vpnNlriTooShortForItsLabelAndRdEndsTheSession() {
        byte[] nlri = HEX.parseHex("40" + "003e91" + "0001c0000201"); // 64 bits: a label and 5 octets of RD
        assertThat(error(update(mpReach(1, nlri), origin(0), asPath())).subcode()).isEqualTo(BgpError.OPTIONAL_ATTRIBUTE_ERROR);

        byte[] longPrefix = HEX.parseHex("7a" + "003e91" + "0001c00002010007" + "0a010203ff"); // 122 bits: a /34
        assertThat(error(update(mpReach(1, longPrefix), origin(0), asPath())).subcode()).isEqualTo(BgpError.OPTIONAL_ATTRIBUTE_ERROR);
    }

    @Test
    void truncatedWithdrawalsEndTheSession() {
        byte[] withdrawal = vpnNlri(0x80000, 1, 0x0A000000, 24);
        DecodeError error = error(update(mpUnreach(java.util.Arrays.copyOf(withdrawal, withdrawal.length - 2))));

        assertThat(error.subcode()).isEqualTo(BgpError.OPTIONAL_ATTRIBUTE_ERROR);
    }

    @Test
    void anMpReachNextHopOfTheWrongLengthEndsTheSession() {
        byte[] reach = attribute(0x80, PathAttributes.MP_REACH_NLRI, concat(HEX.parseHex("00018004" + "0a000001" + "00"), NLRI));

        assertThat(error(update(reach, origin(0), asPath())).subcode()).isEqualTo(BgpError.OPTIONAL_ATTRIBUTE_ERROR);
    }

    @Test
    void mpReachWithWrongFlagsEndsTheSessionWithAttributeFlagsError() {
        byte[] reach = ROUTE.clone();
        reach[0] = (byte) 0xD0; // optional transitive
        assertThat(error(update(reach, origin(0), asPath())).subcode()).isEqualTo(BgpError.ATTRIBUTE_FLAGS_ERROR);
    }

    @Test
    void mpReachTwiceIsMalformedAttributeList() {
        assertThat(error(update(ROUTE, ROUTE, origin(0), asPath())).subcode()).isEqualTo(BgpError.MALFORMED_ATTRIBUTE_LIST);
    }

    @Test
    void anyOtherAttributeTwiceKeepsTheFirst() {
        Update update = updateOf(update(ROUTE, origin(0), origin(2), asPath()));

        assertThat(update.problem().action()).isEqualTo(Update.Problem.Action.ATTRIBUTE_DISCARD);
        assertThat(update.attributes().origin()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "ORIGIN value 3, 40010103, 6",
            "ORIGIN length 2, 4001020000, 5",
            "LOCAL_PREF length 3, 400503000064, 5",
            "MED length 5, 80040500000000ff, 5",
            "NEXT_HOP length 5, 4003050a00000101, 5",
            "EXTENDED_COMMUNITIES length 7, c010070002fc00000003, 9",
            "COMMUNITIES length 3, c00803000001, 9",
            "ORIGINATOR_ID length 2, 80090201ff, 5",
            "CLUSTER_LIST length 6, 800a060a0000010a00, 5",
            "well-known flags on EXTENDED_COMMUNITIES, 40100800020001000000ff, 4",
            "optional flags on ORIGIN, 80010100, 4",
            "AS_PATH segment type 9, 400206090100000001, 11",
            "AS_PATH count overruns, 40020602020000fde9, 11",
            "AS_PATH zero count, 4002020200, 11"})
    void malformedAttributesAreTreatAsWithdraw(String what, String attributeHex, int subcode) {
        byte[] malformed = HEX.parseHex(attributeHex);
        int type = malformed[1];
        byte[] rest = concat(type == PathAttributes.ORIGIN ? new byte[0] : origin(0), type == PathAttributes.AS_PATH ? new byte[0] : asPath());

        Update update = updateOf(update(ROUTE, rest, malformed));

        assertThat(update.treatAsWithdraw()).as(what).isTrue();
        assertThat(update.problem().subcode()).as(what).isEqualTo(subcode);
        assertThat(update.reach().size()).isEqualTo(1);
    }

    @Test
    void aMissingWellKnownAttributeIsTreatAsWithdraw() {
        Update noAsPath = updateOf(update(ROUTE, origin(0)));
        Update noOrigin = updateOf(update(ROUTE, asPath()));

        assertThat(noAsPath.treatAsWithdraw()).isTrue();
        assertThat(noAsPath.problem().subcode()).isEqualTo(BgpError.MISSING_WELL_KNOWN_ATTRIBUTE);
        assertThat(noOrigin.treatAsWithdraw()).isTrue();
    }

    @Test
    void withdrawalsNeedNoAttributes() {
        Update update = updateOf(update(mpUnreach(vpnNlri(0x80000, 1, 0x0A000000, 24))));

        assertThat(update.problem()).isNull();
        assertThat(update.withdrawn().size()).isEqualTo(1);
        assertThat(update.attributes()).isNull();
    }

    @Test
    void atomicAggregateAndAggregatorOfTheWrongLengthAreDiscarded() {
        Update update = updateOf(update(ROUTE, origin(0), asPath(), HEX.parseHex("40060101"), HEX.parseHex("c0070300fde9")));

        assertThat(update.problem().action()).isEqualTo(Update.Problem.Action.ATTRIBUTE_DISCARD);
        assertThat(update.attributes().atomicAggregate()).isFalse();
        assertThat(update.attributes().aggregator()).isEqualTo(-1);
    }

    @Test
    void withdrawnRoutesOrAttributeLengthOverrunningTheMessageIsMalformedAttributeList() {
        byte[] body = updateBody(new byte[0], concat(ROUTE, origin(0), asPath()), new byte[0]);
        body[1] = (byte) 200;
        assertThat(error(message(BgpMessage.TYPE_UPDATE, body)).subcode()).isEqualTo(BgpError.MALFORMED_ATTRIBUTE_LIST);

        byte[] attributesLong = updateBody(new byte[0], concat(ROUTE, origin(0), asPath()), new byte[0]);
        attributesLong[3] = (byte) (attributesLong[3] + 1);
        assertThat(error(message(BgpMessage.TYPE_UPDATE, attributesLong)).subcode()).isEqualTo(BgpError.MALFORMED_ATTRIBUTE_LIST);
    }

    @Test
    void aMalformedIpv4NlriFieldIsInvalidNetworkField() {
        byte[] body = updateBody(new byte[0], concat(origin(0), asPath(), HEX.parseHex("4003040a000001")), HEX.parseHex("21" + "0a000000ff"));

        assertThat(error(message(BgpMessage.TYPE_UPDATE, body)).subcode()).isEqualTo(BgpError.INVALID_NETWORK_FIELD);
    }

    @Test
    void otherAddressFamiliesAreSkipped() {
        byte[] ipv6 = attribute(0x90, PathAttributes.MP_REACH_NLRI, HEX.parseHex("000201" + "10" + "20010db8000000000000000000000001" + "00" + "2020010db8"));

        Update update = updateOf(update(ipv6, origin(0), asPath()));

        assertThat(update.otherFamily()).isEqualTo(2 << 8 | 1);
        assertThat(update.reach().isEmpty()).isTrue();
    }
}
