package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.graph.GraphException;
import dev.vnet.controller.graph.Kind;
import dev.vnet.registry.RegistryException;

import java.util.Map;

/**
 * A refused request: its HTTP status, a Neutron-style error type and a message a person can act on.
 * Sent as {@code {"NeutronError": {"type": ..., "message": ..., "detail": ""}}}, the body OpenStack
 * clients already know how to read.
 *
 * <p>No stack trace: a refusal is an expected outcome and its message says what went wrong.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final Map<String, String> headers;

    public ApiError(int status, String type, String message) {
        this(status, type, message, Map.of());
    }

    private ApiError(int status, String type, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.headers = Map.copyOf(headers);
    }

    /** The same refusal with the {@code Allow} header a 405 must carry. */
    public ApiError withAllow(String methods) {
        return new ApiError(status, type, getMessage(), Map.of("Allow", methods));
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, "BadRequest", message);
    }

    /** A resource named by the path or by a field of the body is not there: {@code NetworkNotFound} etc. */
    public static ApiError notFound(Kind kind, String idOrName) {
        String label = kind.label();
        return new ApiError(404, Character.toUpperCase(label.charAt(0)) + label.substring(1) + "NotFound",
                "no " + label + " " + idOrName);
    }

    public static ApiError conflict(String message) {
        return new ApiError(409, "Conflict", message);
    }

    /**
     * The graph's and the registry's refusals: a rule the request broke is 400, something missing 404,
     * a clash with what exists (a name with another specification, a resource in use, nothing left to
     * allocate) 409.
     */
    public static ApiError from(GraphException e) {
        return switch (e.reason()) {
            case INVALID -> new ApiError(400, "BadRequest", e.getMessage());
            case NOT_FOUND -> new ApiError(404, "NotFound", e.getMessage());
            case CONFLICT -> new ApiError(409, "Conflict", e.getMessage());
            case IN_USE -> new ApiError(409, "InUse", e.getMessage());
            case EXHAUSTED -> new ApiError(409, "Exhausted", e.getMessage());
        };
    }

    public static ApiError from(RegistryException e) {
        return switch (e.code()) {
            case INVALID_ARGUMENT -> new ApiError(400, "BadRequest", e.getMessage());
            case NOT_FOUND -> new ApiError(404, "NotFound", e.getMessage());
            case ALREADY_EXISTS -> new ApiError(409, "Conflict", e.getMessage());
            case FAILED_PRECONDITION -> new ApiError(409, "InUse", e.getMessage());
            case RESOURCE_EXHAUSTED -> new ApiError(409, "Exhausted", e.getMessage());
            default -> new ApiError(500, "InternalError", "registry: " + e);
        };
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public Reply reply() {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.putObject("NeutronError").put("type", type).put("message", getMessage()).put("detail", "");
        return new Reply(status, body, headers);
    }
}
