package dev.vnet.bgp.wire;

/** NOTIFICATION error codes and subcodes (RFC 4271 §4.5, §6; RFC 4486, 5492, 6608, 7313). */
public final class BgpError {
    public static final int MESSAGE_HEADER = 1;
    public static final int CONNECTION_NOT_SYNCHRONIZED = 1;
    public static final int BAD_MESSAGE_LENGTH = 2;
    public static final int BAD_MESSAGE_TYPE = 3;

    public static final int OPEN_MESSAGE = 2;
    public static final int UNSUPPORTED_VERSION = 1;
    public static final int BAD_PEER_AS = 2;
    public static final int BAD_BGP_IDENTIFIER = 3;
    public static final int UNSUPPORTED_OPTIONAL_PARAMETER = 4;
    public static final int UNACCEPTABLE_HOLD_TIME = 6;
    public static final int UNSUPPORTED_CAPABILITY = 7;

    public static final int UPDATE_MESSAGE = 3;
    public static final int MALFORMED_ATTRIBUTE_LIST = 1;
    public static final int UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2;
    public static final int MISSING_WELL_KNOWN_ATTRIBUTE = 3;
    public static final int ATTRIBUTE_FLAGS_ERROR = 4;
    public static final int ATTRIBUTE_LENGTH_ERROR = 5;
    public static final int INVALID_ORIGIN = 6;
    public static final int INVALID_NEXT_HOP = 8;
    public static final int OPTIONAL_ATTRIBUTE_ERROR = 9;
    public static final int INVALID_NETWORK_FIELD = 10;
    public static final int MALFORMED_AS_PATH = 11;

    public static final int HOLD_TIMER_EXPIRED = 4;

    public static final int FSM = 5;
    public static final int FSM_UNEXPECTED_IN_OPEN_SENT = 1;
    public static final int FSM_UNEXPECTED_IN_OPEN_CONFIRM = 2;
    public static final int FSM_UNEXPECTED_IN_ESTABLISHED = 3;

    public static final int CEASE = 6;
    public static final int CEASE_ADMINISTRATIVE_SHUTDOWN = 2;
    public static final int CEASE_PEER_DECONFIGURED = 3;
    public static final int CEASE_CONNECTION_REJECTED = 5;
    public static final int CEASE_CONNECTION_COLLISION = 7;
    public static final int CEASE_OUT_OF_RESOURCES = 8;

    public static final int ROUTE_REFRESH_MESSAGE = 7;

    private BgpError() {
    }

    /** A readable name, e.g. "UPDATE Message Error / Malformed AS_PATH". */
    public static String describe(int code, int subcode) {
        String sub = switch (code) {
            case MESSAGE_HEADER -> switch (subcode) {
                case CONNECTION_NOT_SYNCHRONIZED -> "Connection Not Synchronized";
                case BAD_MESSAGE_LENGTH -> "Bad Message Length";
                case BAD_MESSAGE_TYPE -> "Bad Message Type";
                default -> null;
            };
            case OPEN_MESSAGE -> switch (subcode) {
                case UNSUPPORTED_VERSION -> "Unsupported Version Number";
                case BAD_PEER_AS -> "Bad Peer AS";
                case BAD_BGP_IDENTIFIER -> "Bad BGP Identifier";
                case UNSUPPORTED_OPTIONAL_PARAMETER -> "Unsupported Optional Parameter";
                case UNACCEPTABLE_HOLD_TIME -> "Unacceptable Hold Time";
                case UNSUPPORTED_CAPABILITY -> "Unsupported Capability";
                default -> null;
            };
            case UPDATE_MESSAGE -> switch (subcode) {
                case MALFORMED_ATTRIBUTE_LIST -> "Malformed Attribute List";
                case UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE -> "Unrecognized Well-known Attribute";
                case MISSING_WELL_KNOWN_ATTRIBUTE -> "Missing Well-known Attribute";
                case ATTRIBUTE_FLAGS_ERROR -> "Attribute Flags Error";
                case ATTRIBUTE_LENGTH_ERROR -> "Attribute Length Error";
                case INVALID_ORIGIN -> "Invalid ORIGIN Attribute";
                case INVALID_NEXT_HOP -> "Invalid NEXT_HOP Attribute";
                case OPTIONAL_ATTRIBUTE_ERROR -> "Optional Attribute Error";
                case INVALID_NETWORK_FIELD -> "Invalid Network Field";
                case MALFORMED_AS_PATH -> "Malformed AS_PATH";
                default -> null;
            };
            case FSM -> switch (subcode) {
                case FSM_UNEXPECTED_IN_OPEN_SENT -> "Receive Unexpected Message in OpenSent State";
                case FSM_UNEXPECTED_IN_OPEN_CONFIRM -> "Receive Unexpected Message in OpenConfirm State";
                case FSM_UNEXPECTED_IN_ESTABLISHED -> "Receive Unexpected Message in Established State";
                default -> null;
            };
            case CEASE -> switch (subcode) {
                case CEASE_ADMINISTRATIVE_SHUTDOWN -> "Administrative Shutdown";
                case CEASE_PEER_DECONFIGURED -> "Peer De-configured";
                case CEASE_CONNECTION_REJECTED -> "Connection Rejected";
                case CEASE_CONNECTION_COLLISION -> "Connection Collision Resolution";
                case CEASE_OUT_OF_RESOURCES -> "Out of Resources";
                default -> null;
            };
            default -> null;
        };
        String main = switch (code) {
            case MESSAGE_HEADER -> "Message Header Error";
            case OPEN_MESSAGE -> "OPEN Message Error";
            case UPDATE_MESSAGE -> "UPDATE Message Error";
            case HOLD_TIMER_EXPIRED -> "Hold Timer Expired";
            case FSM -> "Finite State Machine Error";
            case CEASE -> "Cease";
            case ROUTE_REFRESH_MESSAGE -> "ROUTE-REFRESH Message Error";
            default -> "error code " + code;
        };
        return sub != null ? main + " / " + sub : subcode == 0 ? main : main + " / subcode " + subcode;
    }
}
