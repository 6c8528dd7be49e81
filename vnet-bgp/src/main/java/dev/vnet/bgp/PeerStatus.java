package dev.vnet.bgp;

import dev.vnet.bgp.session.SessionState;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One peer as {@link BgpSpeaker#peers()} sees it.
 *
 * @param extensionVersion the vnet extension version the session runs (0: off, or not Established)
 * @param shared           capabilities both sides advertised
 * @param lastError        why the session last went down or a connection failed, or null
 */
public record PeerStatus(InetSocketAddress address, long remoteAs, SessionState state, String remoteRouterId, int holdTime,
                         int extensionVersion, List<String> shared, int routesReceived, int routesAdvertised,
                         long updatesReceived, long updatesSent, long treatedAsWithdraw, boolean endOfRibReceived,
                         long establishedTransitions, String lastError) {
}
