package dev.vnet.bgp;

import dev.vnet.bgp.session.SessionState;
import dev.vnet.bgp.wire.BgpError;
import dev.vnet.bgp.wire.BgpMessage;
import dev.vnet.bgp.wire.Capability;
import dev.vnet.bgp.wire.Keepalive;
import dev.vnet.bgp.wire.Notification;
import dev.vnet.bgp.wire.Open;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.RawAttribute;
import dev.vnet.bgp.wire.RouteRefresh;
import dev.vnet.bgp.wire.RawMessages;
import dev.vnet.bgp.wire.RouteDistinguisher;
import dev.vnet.bgp.wire.Update;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static dev.vnet.bgp.TestSpeakers.AS;
import static dev.vnet.bgp.TestSpeakers.address;
import static dev.vnet.bgp.TestSpeakers.await;
import static dev.vnet.bgp.TestSpeakers.config;
import static dev.vnet.bgp.TestSpeakers.peer;
import static dev.vnet.bgp.TestSpeakers.routerId;
import static org.assertj.core.api.Assertions.assertThat;

/** A real speaker on loopback against a scripted peer that misbehaves on purpose. */
class RawPeerIT {
    private final InetSocketAddress speakerAddress = address(40);
    private final InetSocketAddress rawAddress = address(41);
    private BgpSpeaker speaker;

    private void startSpeaker(int holdTime) throws Exception {
        speaker = BgpSpeaker.start(config(AS, 40, speakerAddress).holdTime(holdTime)
                .peer(PeerConfig.of(rawAddress, AS).asPassive()).build());
    }

    @AfterEach
    void close() {
        if (speaker != null) {
            speaker.close();
        }
    }

    @Test
    void thePeerGoesSilentAndTheHoldTimerExpires() throws Exception {
        startSpeaker(3);
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 3, routerId(41)));
            await("Established", () -> peer(speaker, rawAddress).state() == SessionState.ESTABLISHED);

            // send nothing more: keepalives from the speaker arrive, then Hold Timer Expired
            Object notification = raw.receiveUntil(Notification.class);

            assertThat(notification).isEqualTo(new Notification(BgpError.HOLD_TIMER_EXPIRED, 0));
            assertThat(raw.closedByPeer()).isTrue();
            await("Idle or Active", () -> peer(speaker, rawAddress).state() != SessionState.ESTABLISHED);
            assertThat(peer(speaker, rawAddress).lastError()).contains("hold timer expired");
        }
    }

    @Test
    void unknownCapabilitiesAreIgnoredAndTheSessionComesUp() throws Exception {
        startSpeaker(90);
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 90, routerId(41), new Capability.Unknown(73, new byte[] {1, 2, 3, 4}),
                    new Capability.Unknown(128, new byte[0]), new Capability.Unknown(240, new byte[] {7})));

            await("Established", () -> peer(speaker, rawAddress).state() == SessionState.ESTABLISHED);
            assertThat(peer(speaker, rawAddress).extensionVersion()).isZero();
        }
    }

    @Test
    void malformedInputIsAnsweredAndTheSpeakerCarriesOnWithTheNextConnection() throws Exception {
        startSpeaker(90);
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 90, routerId(41)));
            byte[] unknownWellKnown = RawMessages.update(RawMessages.attribute(0x40, 99, new byte[] {1}));
            raw.send(unknownWellKnown);

            Object notification = raw.receiveUntil(Notification.class);
            assertThat(notification).isEqualTo(new Notification(BgpError.UPDATE_MESSAGE, BgpError.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                    RawMessages.attribute(0x40, 99, new byte[] {1})));
        }
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 90, routerId(41)));
            byte[] keepalive = RawMessages.encode(Keepalive.INSTANCE, true);
            keepalive[3] = 7;
            raw.send(keepalive);
            assertThat(raw.receiveUntil(Notification.class))
                    .isEqualTo(new Notification(BgpError.MESSAGE_HEADER, BgpError.CONNECTION_NOT_SYNCHRONIZED));
        }
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 90, routerId(41)));
            raw.send(RawMessages.message(BgpMessage.TYPE_UPDATE, new byte[5000 - 19]));
            assertThat(raw.receiveUntil(Notification.class))
                    .isEqualTo(new Notification(BgpError.MESSAGE_HEADER, BgpError.BAD_MESSAGE_LENGTH, new byte[] {0x13, (byte) 0x88}));
        }
    }

    @Test
    void aTreatAsWithdrawUpdateRemovesTheRouteAndKeepsTheSession() throws Exception {
        startSpeaker(90);
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 90, routerId(41)));
            long rd = RouteDistinguisher.forHost(routerId(41), 1).value();
            byte[] reach = RawMessages.mpReach(routerId(41), RawMessages.vpnNlri(5, rd, 0x0A050000, 16));
            raw.send(RawMessages.update(reach, RawMessages.origin(0), RawMessages.asPath()));
            await("route in", () -> speaker.locRibSize() == 1);

            raw.send(RawMessages.update(reach, RawMessages.origin(7), RawMessages.asPath()));
            await("route treated as withdrawn", () -> speaker.locRibSize() == 0);
            raw.send(Keepalive.INSTANCE);
            assertThat(peer(speaker, rawAddress).state()).isEqualTo(SessionState.ESTABLISHED);
            assertThat(peer(speaker, rawAddress).treatedAsWithdraw()).isEqualTo(1);
            raw.send(Update.endOfRib());
            await("End-of-RIB", () -> peer(speaker, rawAddress).endOfRibReceived());
        }
    }

    @Test
    void aConnectionFromAnUnknownAddressIsRejected() throws Exception {
        startSpeaker(90);
        try (RawPeer stranger = new RawPeer(address(42), speakerAddress)) {
            assertThat(stranger.receive()).isEqualTo(new Notification(BgpError.CEASE, BgpError.CEASE_CONNECTION_REJECTED));
        }
    }

    @Test
    void aPeerInTheWrongAsIsRefused() throws Exception {
        startSpeaker(90);
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.send(RawPeer.open(65000, 90, routerId(41)));
            assertThat(raw.receive()).isInstanceOf(Open.class);
            assertThat(raw.receive()).isEqualTo(new Notification(BgpError.OPEN_MESSAGE, BgpError.BAD_PEER_AS));
        }
    }

    @Test
    void anUnknownOptionalTransitiveAttributeIsPassedOnWithPartialSet() throws Exception {
        InetSocketAddress other = address(43);
        speaker = BgpSpeaker.start(config(AS, 40, speakerAddress).peer(PeerConfig.of(rawAddress, AS).asPassive().asReflectorClient())
                .peer(PeerConfig.of(other, AS).asReflectorClient()).build());
        try (BgpSpeaker client = BgpSpeaker.start(config(AS, 43, other).peer(PeerConfig.of(speakerAddress, AS)).build());
             RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 90, routerId(41)));
            long rd = RouteDistinguisher.forHost(routerId(41), 1).value();
            byte[] reach = RawMessages.mpReach(routerId(41), RawMessages.vpnNlri(5, rd, 0x0A050000, 16));
            raw.send(RawMessages.update(reach, RawMessages.origin(0), RawMessages.asPath(),
                    RawMessages.attribute(0xC0, 99, new byte[] {4, 2}), RawMessages.attribute(0x80, 98, new byte[] {1})));

            await("reflected route at the other client", () -> client.locRibSize() == 1);
            RawAttribute[] passedOn = client.bestPaths().getFirst().attributes().unknownTransitive();
            assertThat(passedOn).hasSize(1);
            assertThat(passedOn[0].type()).isEqualTo(99);
            assertThat(passedOn[0].flags() & PathAttributes.FLAG_PARTIAL).isEqualTo(PathAttributes.FLAG_PARTIAL);
            assertThat(passedOn[0].value()).containsExactly(4, 2);
        }
    }

    @Test
    void aRouteRefreshGetsTheWholeTableAgain() throws Exception {
        startSpeaker(90);
        speaker.originate(TestSpeakers.route(44, 3, "10.3.0.0/24"));
        try (RawPeer raw = new RawPeer(rawAddress, speakerAddress)) {
            raw.establish(RawPeer.open(AS, 90, routerId(41), new Capability.RouteRefresh()));
            Update first = (Update) raw.receiveUntil(Update.class);
            assertThat(first.reach().size()).isEqualTo(1);
            assertThat(((Update) raw.receiveUntil(Update.class)).isEndOfRib()).isTrue();

            raw.send(RouteRefresh.VPN_IPV4);

            Update again = (Update) raw.receiveUntil(Update.class);
            assertThat(again.reach()).isEqualTo(first.reach());
            assertThat(again.attributes()).isEqualTo(first.attributes());
            assertThat(((Update) raw.receiveUntil(Update.class)).isEndOfRib()).isTrue();
        }
    }
}
