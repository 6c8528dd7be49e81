package dev.vnet.bgp.wire;

/**
 * A BGP message (RFC 4271 §4). On the wire each starts with the common header:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Marker (16 octets of 0xFF)                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Length (19..4096)    |      Type     |    body ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public sealed interface BgpMessage permits Open, Update, Notification, Keepalive, RouteRefresh {
    int MARKER_LENGTH = 16;
    int LENGTH_OFFSET = 16;
    int TYPE_OFFSET = 18;
    int HEADER_LENGTH = 19;
    int MAX_LENGTH = 4096;

    int TYPE_OPEN = 1;
    int TYPE_UPDATE = 2;
    int TYPE_NOTIFICATION = 3;
    int TYPE_KEEPALIVE = 4;
    int TYPE_ROUTE_REFRESH = 5;

    int type();
}
