package dev.vnet.controller.api.client;

/**
 * The API refused a request: the HTTP status, the error's type ({@code NetworkNotFound}, {@code Conflict},
 * ...) and the server's message, which says what to change.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;

    public ApiException(int status, String type, String message) {
        super(message);
        this.status = status;
        this.type = type;
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }
}
