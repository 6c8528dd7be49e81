package dev.vnet.registry;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A refused registry request: the gRPC status code and a description a person can act on. The service
 * throws it, the server sends it as the call's status, and the client turns the status back into it.
 *
 * <p>No stack trace: refusals are expected outcomes (a flood of denied token requests must not cost a
 * stack walk each), and the description says what went wrong.
 */
public final class RegistryException extends RuntimeException {
    private final Status.Code code;

    public RegistryException(Status.Code code, String description) {
        super(description, null, false, false);
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }

    public String description() {
        return getMessage();
    }

    public static RegistryException invalid(String description) {
        return new RegistryException(Status.Code.INVALID_ARGUMENT, description);
    }

    public static RegistryException notFound(String description) {
        return new RegistryException(Status.Code.NOT_FOUND, description);
    }

    public static RegistryException alreadyExists(String description) {
        return new RegistryException(Status.Code.ALREADY_EXISTS, description);
    }

    public static RegistryException denied(String description) {
        return new RegistryException(Status.Code.PERMISSION_DENIED, description);
    }

    public static RegistryException failedPrecondition(String description) {
        return new RegistryException(Status.Code.FAILED_PRECONDITION, description);
    }

    public static RegistryException exhausted(String description) {
        return new RegistryException(Status.Code.RESOURCE_EXHAUSTED, description);
    }

    public static RegistryException from(StatusRuntimeException e) {
        Status status = e.getStatus();
        String description = status.getDescription() != null ? status.getDescription()
                : status.getCause() != null ? status.getCause().toString() : status.getCode().name();
        return new RegistryException(status.getCode(), description);
    }

    public StatusRuntimeException toStatusException() {
        return Status.fromCode(code).withDescription(getMessage()).asRuntimeException();
    }

    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
