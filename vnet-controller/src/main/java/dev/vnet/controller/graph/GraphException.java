package dev.vnet.controller.graph;

/** A request the graph refuses; {@link #reason()} says which rule, for the API's status code. */
public final class GraphException extends RuntimeException {
    public enum Reason { NOT_FOUND, CONFLICT, IN_USE, INVALID, EXHAUSTED }

    private final Reason reason;

    public GraphException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
