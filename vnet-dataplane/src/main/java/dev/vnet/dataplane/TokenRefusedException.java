package dev.vnet.dataplane;

/** The registry answered and refused the token; the message is its reason. */
public final class TokenRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenRefusedException(String reason) {
        super(reason);
    }
}
