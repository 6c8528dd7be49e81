package dev.vnet.bgp.session;

import dev.vnet.bgp.wire.BgpError;
import dev.vnet.bgp.wire.Capability;
import dev.vnet.bgp.wire.Notification;
import dev.vnet.bgp.wire.Open;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks a received OPEN against this speaker's settings (RFC 4271 §6.2) and works out what the session
 * runs with (RFC 5492: a capability counts only if both sides advertised it; one the receiver does not
 * know is ignored, never refused).
 *
 * <pre>
 *  peer's AS is not the configured one                   2/2 Bad Peer AS
 *  hold time 1 or 2                                      2/6 Unacceptable Hold Time
 *  BGP identifier 0, or ours on an internal session      2/3 Bad BGP Identifier (RFC 6286 §2.2)
 * </pre>
 * (Version and optional parameter errors are the decoder's.)
 */
public final class Negotiation {
    private Negotiation() {
    }

    /** Either what was agreed or the NOTIFICATION that refuses the OPEN, with why. */
    public record Result(Negotiated negotiated, Notification refusal, String reason) {
    }

    public static Result negotiate(SessionSettings local, Open remote) {
        long remoteAs = remote.as();
        if (remoteAs != local.remoteAs()) {
            return refuse(BgpError.BAD_PEER_AS, "peer is in AS " + remoteAs + ", expected " + local.remoteAs());
        }
        if (remote.holdTime() == 1 || remote.holdTime() == 2) {
            return refuse(BgpError.UNACCEPTABLE_HOLD_TIME, "hold time " + remote.holdTime());
        }
        if (remote.bgpIdentifier() == 0 || (local.internal() && remote.bgpIdentifier() == local.routerId())) {
            return refuse(BgpError.BAD_BGP_IDENTIFIER, "BGP identifier " + Integer.toUnsignedString(remote.bgpIdentifier())
                    + (remote.bgpIdentifier() == 0 ? "" : " is this speaker's own"));
        }
        Open mine = local.open();
        int holdTime = Math.min(local.holdTime(), remote.holdTime());
        boolean fourOctetAs = mine.supportsFourOctetAs() && remote.supportsFourOctetAs();
        boolean vpn = remote.has(Capability.Multiprotocol.VPN_IPV4);
        boolean refresh = mine.supportsRouteRefresh() && remote.supportsRouteRefresh();
        int extension = Math.min(mine.vnetExtensionVersion(), remote.vnetExtensionVersion());
        List<String> shared = new ArrayList<>();
        if (vpn) {
            shared.add("multiprotocol VPN-IPv4");
        }
        if (refresh) {
            shared.add("route refresh");
        }
        if (fourOctetAs) {
            shared.add("4-octet AS");
        }
        if (extension > 0) {
            shared.add("vnet extension v" + extension);
        }
        return new Result(new Negotiated(remoteAs, remote.bgpIdentifier(), holdTime, holdTime / 3, fourOctetAs, vpn, refresh,
                extension, List.copyOf(shared), remote), null, null);
    }

    private static Result refuse(int subcode, String reason) {
        return new Result(null, new Notification(BgpError.OPEN_MESSAGE, subcode), reason);
    }
}
