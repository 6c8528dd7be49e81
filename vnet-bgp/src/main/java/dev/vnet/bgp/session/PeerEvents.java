package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.Update;

/** What a {@link Peer} tells the routing side of the speaker. Called on the peer's event loop. */
public interface PeerEvents {
    /** The session is Established on {@code connection}; routes may flow. */
    void sessionEstablished(Peer peer, BgpConnection connection);

    /** The Established session ended: everything learned from the peer is to be forgotten. */
    void sessionDown(Peer peer, String reason);

    void updateReceived(Peer peer, Update update);

    void routeRefreshReceived(Peer peer);

    /** The Established connection's write buffer drained below its low water mark. */
    void writable(Peer peer);
}
