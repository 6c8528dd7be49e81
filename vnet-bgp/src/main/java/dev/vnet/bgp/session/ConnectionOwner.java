package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.RouteRefresh;
import dev.vnet.bgp.wire.Update;

/**
 * What a {@link BgpConnection} reports to and asks of the peer it belongs to. Called on the
 * connection's event loop.
 */
public interface ConnectionOwner {
    SessionSettings settings();

    /**
     * The connection's OPEN was accepted and it is about to enter OpenConfirm. The owner resolves a
     * collision with its other connection here (RFC 4271 §6.8) and may close either; returns false if
     * it closed this one.
     */
    boolean openReceived(BgpConnection connection);

    void established(BgpConnection connection);

    void updateReceived(BgpConnection connection, Update update);

    void routeRefreshReceived(BgpConnection connection, RouteRefresh refresh);

    void writabilityChanged(BgpConnection connection);

    /** The connection is gone, for the reason given; called once per connection. */
    void closed(BgpConnection connection, String reason);
}
