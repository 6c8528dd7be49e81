package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.BgpError;
import dev.vnet.bgp.wire.BgpMessage;
import dev.vnet.bgp.wire.BgpMessageDecoder;
import dev.vnet.bgp.wire.Capability;
import dev.vnet.bgp.wire.Keepalive;
import dev.vnet.bgp.wire.Notification;
import dev.vnet.bgp.wire.Open;
import dev.vnet.bgp.wire.RawMessages;
import dev.vnet.bgp.wire.Update;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** RFC 4271 §6.8: both speakers connect at once; the connection opened by the higher identifier survives. */
class PeerCollisionTest {
    private static final long AS = 64512;

    private static final class Events implements PeerEvents {
        BgpConnection established;

        @Override
        public void sessionEstablished(Peer peer, BgpConnection connection) {
            established = connection;
        }

        @Override
        public void sessionDown(Peer peer, String reason) {
        }

        @Override
        public void updateReceived(Peer peer, Update update) {
        }

        @Override
        public void routeRefreshReceived(Peer peer) {
        }

        @Override
        public void writable(Peer peer) {
        }
    }

    private static List<Object> sent(EmbeddedChannel channel) {
        EmbeddedChannel decoder = new EmbeddedChannel(new BgpMessageDecoder());
        for (Object out; (out = channel.readOutbound()) != null; ) {
            decoder.writeInbound(out instanceof ByteBuf buf ? buf : Unpooled.wrappedBuffer(RawMessages.encode((BgpMessage) out, true)));
        }
        List<Object> messages = new ArrayList<>();
        for (Object message; (message = decoder.readInbound()) != null; ) {
            messages.add(message);
        }
        return messages;
    }

    private static void receive(EmbeddedChannel channel, BgpMessage message) {
        channel.writeInbound(Unpooled.wrappedBuffer(RawMessages.encode(message, true)));
    }

    @ParameterizedTest(name = "local id {0}, remote id {1}: the {2} connection survives")
    @CsvSource({"10, 20, incoming", "20, 10, outgoing"})
    void theConnectionOpenedByTheHigherIdentifierSurvives(int localId, int remoteId, String survivor) {
        EmbeddedChannel outgoingChannel = new EmbeddedChannel();
        Events events = new Events();
        Peer[] holder = new Peer[1];
        Connector connector = (remote, connection) -> {
            connection.install(outgoingChannel.pipeline());
            return outgoingChannel.newSucceededFuture();
        };
        SessionSettings settings = new SessionSettings(AS, localId, 90, AS, true, 1, List.of());
        Peer peer = new Peer(new InetSocketAddress("127.0.0.9", 179), settings, false,
                ConnectRetry.fixed(Duration.ofSeconds(1)), outgoingChannel.eventLoop(), connector, events, null);
        holder[0] = peer;
        peer.start();
        EmbeddedChannel incomingChannel = new EmbeddedChannel();
        BgpConnection incoming = peer.accept();
        incoming.install(incomingChannel.pipeline());
        assertThat(peer.state()).isEqualTo(SessionState.OPEN_SENT);
        Open remoteOpen = Open.of(AS, 90, remoteId, List.of(Capability.Multiprotocol.VPN_IPV4, new Capability.FourOctetAs(AS)));

        receive(outgoingChannel, remoteOpen);
        assertThat(peer.state()).isEqualTo(SessionState.OPEN_CONFIRM);
        receive(incomingChannel, remoteOpen);

        EmbeddedChannel winner = survivor.equals("incoming") ? incomingChannel : outgoingChannel;
        EmbeddedChannel loser = winner == incomingChannel ? outgoingChannel : incomingChannel;
        assertThat(sent(loser)).contains(new Notification(BgpError.CEASE, BgpError.CEASE_CONNECTION_COLLISION));
        assertThat(loser.isOpen()).isFalse();
        assertThat(winner.isOpen()).isTrue();

        receive(winner, Keepalive.INSTANCE);
        assertThat(peer.state()).isEqualTo(SessionState.ESTABLISHED);
        assertThat(events.established.isOutgoing()).isEqualTo(survivor.equals("outgoing"));

        // a third connection while Established is refused
        assertThat(peer.accept()).isNull();
        assertThat(peer.refusal()).isEqualTo(new Notification(BgpError.CEASE, BgpError.CEASE_CONNECTION_COLLISION));
    }
}
