package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.BgpError;
import dev.vnet.bgp.wire.BgpMessage;
import dev.vnet.bgp.wire.BgpMessageDecoder;
import dev.vnet.bgp.wire.Capability;
import dev.vnet.bgp.wire.Keepalive;
import dev.vnet.bgp.wire.Notification;
import dev.vnet.bgp.wire.Open;
import dev.vnet.bgp.wire.RawMessages;
import dev.vnet.bgp.wire.RouteRefresh;
import dev.vnet.bgp.wire.Update;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** One connection's state machine driven through an EmbeddedChannel: no sockets, virtual time. */
class BgpConnectionTest {
    private static final long AS = 64512;
    private static final int LOCAL_ID = 0x0AFF0001;
    private static final int REMOTE_ID = 0x0AFF0002;

    /** Records what the connection reports. */
    static final class RecordingOwner implements ConnectionOwner {
        final SessionSettings settings;
        final List<String> events = new ArrayList<>();
        final List<Update> updates = new ArrayList<>();
        String closedReason;

        RecordingOwner(SessionSettings settings) {
            this.settings = settings;
        }

        @Override
        public SessionSettings settings() {
            return settings;
        }

        @Override
        public boolean openReceived(BgpConnection connection) {
            events.add("open");
            return true;
        }

        @Override
        public void established(BgpConnection connection) {
            events.add("established");
        }

        @Override
        public void updateReceived(BgpConnection connection, Update update) {
            updates.add(update);
        }

        @Override
        public void routeRefreshReceived(BgpConnection connection, RouteRefresh refresh) {
            events.add("refresh");
        }

        @Override
        public void writabilityChanged(BgpConnection connection) {
        }

        @Override
        public void closed(BgpConnection connection, String reason) {
            closedReason = reason;
            events.add("closed");
        }
    }

    private static SessionSettings settings(int holdTime) {
        return new SessionSettings(AS, LOCAL_ID, holdTime, AS, true, 1, List.of());
    }

    private RecordingOwner owner;
    private BgpConnection connection;
    private EmbeddedChannel channel;

    private EmbeddedChannel connect(int holdTime) {
        owner = new RecordingOwner(settings(holdTime));
        connection = new BgpConnection(owner, true);
        channel = new EmbeddedChannel();
        channel.freezeTime();
        connection.install(channel.pipeline());
        return channel;
    }

    private static Open remoteOpen(long as, int holdTime, int id) {
        return Open.of(as, holdTime, id, List.of(Capability.Multiprotocol.VPN_IPV4, new Capability.FourOctetAs(as),
                new Capability.VnetExtension(2)));
    }

    private void receive(BgpMessage message) {
        receive(RawMessages.encode(message, true));
    }

    private void receive(byte[] bytes) {
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    /** Everything the connection wrote, decoded. */
    private List<Object> sent() {
        List<Object> messages = new ArrayList<>();
        EmbeddedChannel decoder = new EmbeddedChannel(new BgpMessageDecoder());
        for (Object out; (out = channel.readOutbound()) != null; ) {
            decoder.writeInbound(out instanceof ByteBuf buf ? buf : Unpooled.wrappedBuffer(RawMessages.encode((BgpMessage) out, true)));
        }
        for (Object message; (message = decoder.readInbound()) != null; ) {
            messages.add(message);
        }
        return messages;
    }

    private void establish(int holdTime) {
        connect(holdTime);
        receive(remoteOpen(AS, 90, REMOTE_ID));
        receive(Keepalive.INSTANCE);
        assertThat(connection.phase()).isEqualTo(BgpConnection.Phase.ESTABLISHED);
        sent();
    }

    @Test
    void anOpenExchangeEstablishesTheSessionWithTheSmallerHoldTime() {
        connect(30);
        assertThat(sent()).singleElement().isInstanceOf(Open.class);

        receive(remoteOpen(AS, 90, REMOTE_ID));
        assertThat(sent()).containsExactly(Keepalive.INSTANCE);
        assertThat(connection.phase()).isEqualTo(BgpConnection.Phase.OPEN_CONFIRM);

        receive(Keepalive.INSTANCE);
        assertThat(connection.phase()).isEqualTo(BgpConnection.Phase.ESTABLISHED);
        assertThat(owner.events).containsExactly("open", "established");
        assertThat(connection.negotiated().holdTime()).isEqualTo(30);
        assertThat(connection.negotiated().keepaliveTime()).isEqualTo(10);
        assertThat(connection.negotiated().extensionVersion()).isEqualTo(1);
    }

    @Test
    void theHoldTimerExpiresWhenThePeerFallsSilent() {
        establish(30);

        channel.advanceTimeBy(29, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        receive(Keepalive.INSTANCE); // restarts the hold time
        channel.advanceTimeBy(29, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();

        channel.advanceTimeBy(2, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        assertThat(sent()).contains(new Notification(BgpError.HOLD_TIMER_EXPIRED, 0));
        assertThat(channel.isOpen()).isFalse();
        assertThat(owner.closedReason).contains("hold timer expired");
    }

    @Test
    void keepalivesGoEveryThirdOfTheHoldTime() {
        establish(30);

        channel.advanceTimeBy(10, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        assertThat(sent()).containsExactly(Keepalive.INSTANCE);
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void aHoldTimeOfZeroMeansNoTimers() {
        establish(0);

        channel.advanceTimeBy(1, TimeUnit.HOURS);
        channel.runScheduledPendingTasks();

        assertThat(sent()).isEmpty();
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void openSentWaitsFourMinutesForTheOpen() {
        connect(90);
        sent();

        channel.advanceTimeBy(BgpConnection.OPEN_HOLD_SECONDS, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();

        assertThat(sent()).containsExactly(new Notification(BgpError.HOLD_TIMER_EXPIRED, 0));
    }

    @Test
    void openErrorsAreAnsweredWithTheirNotification() {
        record Case(Open open, int subcode) {
        }
        for (Case c : List.of(new Case(remoteOpen(65999, 90, REMOTE_ID), BgpError.BAD_PEER_AS),
                new Case(remoteOpen(AS, 2, REMOTE_ID), BgpError.UNACCEPTABLE_HOLD_TIME),
                new Case(remoteOpen(AS, 90, 0), BgpError.BAD_BGP_IDENTIFIER),
                new Case(remoteOpen(AS, 90, LOCAL_ID), BgpError.BAD_BGP_IDENTIFIER))) {
            connect(90);
            sent();
            receive(c.open());
            assertThat(sent()).as("%s", c).containsExactly(new Notification(BgpError.OPEN_MESSAGE, c.subcode()));
            assertThat(channel.isOpen()).isFalse();
        }
    }

    @Test
    void anUnsupportedVersionIsAnsweredWithTheVersionWeRun() {
        connect(90);
        sent();
        byte[] open = RawMessages.encode(remoteOpen(AS, 90, REMOTE_ID), true);
        open[19] = 3;

        receive(open);

        assertThat(sent()).containsExactly(new Notification(BgpError.OPEN_MESSAGE, BgpError.UNSUPPORTED_VERSION, new byte[] {0, 4}));
    }

    @Test
    void messagesOutOfOrderAreFsmErrorsWithTheStateInTheSubcode() {
        connect(90);
        sent();
        receive(Update.endOfRib());
        assertThat(sent()).containsExactly(new Notification(BgpError.FSM, BgpError.FSM_UNEXPECTED_IN_OPEN_SENT));

        connect(90);
        receive(remoteOpen(AS, 90, REMOTE_ID));
        sent();
        receive(Update.endOfRib());
        assertThat(sent()).containsExactly(new Notification(BgpError.FSM, BgpError.FSM_UNEXPECTED_IN_OPEN_CONFIRM));

        establish(90);
        receive(remoteOpen(AS, 90, REMOTE_ID));
        assertThat(sent()).containsExactly(new Notification(BgpError.FSM, BgpError.FSM_UNEXPECTED_IN_ESTABLISHED));
    }

    @Test
    void aBadMarkerOnTheWireIsAnsweredAndTheConnectionClosed() {
        establish(90);
        byte[] keepalive = RawMessages.encode(Keepalive.INSTANCE, true);
        keepalive[0] = 0;

        receive(keepalive);

        assertThat(sent()).containsExactly(new Notification(BgpError.MESSAGE_HEADER, BgpError.CONNECTION_NOT_SYNCHRONIZED));
        assertThat(channel.isOpen()).isFalse();
        assertThat(owner.closedReason).contains("marker");
    }

    @Test
    void aBadLengthIsAnsweredWithTheLength() {
        establish(90);

        receive(RawMessages.message(BgpMessage.TYPE_KEEPALIVE, new byte[1]));

        assertThat(sent()).containsExactly(new Notification(BgpError.MESSAGE_HEADER, BgpError.BAD_MESSAGE_LENGTH, new byte[] {0, 20}));
    }

    @Test
    void aNotificationFromThePeerClosesWithoutAnAnswer() {
        establish(90);

        receive(new Notification(BgpError.CEASE, BgpError.CEASE_ADMINISTRATIVE_SHUTDOWN));

        assertThat(sent()).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertThat(owner.closedReason).contains("Administrative Shutdown");
    }

    @Test
    void updatesAndRefreshesReachTheOwnerOnceEstablished() {
        establish(90);

        receive(Update.endOfRib());
        receive(RouteRefresh.VPN_IPV4);

        assertThat(owner.updates).singleElement().matches(Update::isEndOfRib);
        assertThat(owner.events).endsWith("refresh");
    }

    /**
     * Seeded fuzzing: valid messages with random octets changed, cut or added, fed to an Established
     * connection. Nothing may escape the pipeline; the connection either carries on or answers with a
     * NOTIFICATION and closes.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
    void mutatedMessagesNeverEscapeThePipeline(long seed) {
        Random random = new Random(seed);
        List<byte[]> valid = List.of(
                RawMessages.encode(Keepalive.INSTANCE, true),
                RawMessages.encode(RouteRefresh.VPN_IPV4, true),
                RawMessages.encode(Update.endOfRib(), true),
                RawMessages.encode(Update.reach(dev.vnet.bgp.wire.BgpCodecTestAccess.randomAttributes(random),
                        dev.vnet.bgp.wire.BgpCodecTestAccess.randomNlri(random, 1 + random.nextInt(60))), true));
        for (int round = 0; round < 200; round++) {
            establish(90);
            byte[] message = valid.get(random.nextInt(valid.size())).clone();
            byte[] mutated = mutate(message, random);

            receive(mutated);
            channel.runPendingTasks();
            channel.checkException();

            List<Object> answer = sent();
            if (channel.isOpen()) {
                assertThat(answer).allMatch(m -> m instanceof Keepalive);
            } else {
                assertThat(answer).as("answer to %s", java.util.HexFormat.of().formatHex(mutated))
                        .allMatch(m -> m instanceof Notification);
            }
        }
    }

    private static byte[] mutate(byte[] message, Random random) {
        switch (random.nextInt(4)) {
            case 0 -> {
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    message[16 + random.nextInt(message.length - 16)] = (byte) random.nextInt(256);
                }
                return message;
            }
            case 1 -> {
                int cut = 19 + random.nextInt(Math.max(1, message.length - 19));
                byte[] shorter = java.util.Arrays.copyOf(message, cut);
                shorter[16] = (byte) (cut >>> 8);
                shorter[17] = (byte) cut;
                return shorter;
            }
            case 2 -> {
                int index = 19 + random.nextInt(Math.max(1, message.length - 19));
                if (index < message.length) {
                    message[index] = (byte) (message[index] ^ (1 << random.nextInt(8)));
                }
                return message;
            }
            default -> {
                int extra = 1 + random.nextInt(8);
                byte[] longer = java.util.Arrays.copyOf(message, message.length + extra);
                for (int i = message.length; i < longer.length; i++) {
                    longer[i] = (byte) random.nextInt(256);
                }
                int length = Math.min(longer.length, 4096);
                longer[16] = (byte) (length >>> 8);
                longer[17] = (byte) length;
                return longer;
            }
        }
    }
}
