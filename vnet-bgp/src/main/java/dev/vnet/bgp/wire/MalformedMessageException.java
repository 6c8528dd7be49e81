package dev.vnet.bgp.wire;

/**
 * Thrown inside the decoder by a parser that found an error which ends the session; the decoder turns
 * it into a {@link DecodeError}. Carries no stack trace: malformed input is expected, not a bug.
 */
final class MalformedMessageException extends Exception {
    private final int code;
    private final int subcode;
    private final byte[] data;

    MalformedMessageException(int code, int subcode, byte[] data, String reason) {
        super(reason, null, false, false);
        this.code = code;
        this.subcode = subcode;
        this.data = data;
    }

    DecodeError toDecodeError(boolean answer) {
        return new DecodeError(code, subcode, data, getMessage(), answer);
    }
}
