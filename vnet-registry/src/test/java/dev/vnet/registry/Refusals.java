package dev.vnet.registry;

import io.grpc.Status;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Asserts that a call is refused with a status code and a description that says why. */
final class Refusals {
    private Refusals() {
    }

    static void assertRefused(ThrowingCallable call, Status.Code code, String reason) {
        assertThatThrownBy(() -> {
            try {
                call.call();
            } catch (CompletionException e) {
                throw e.getCause();
            }
        }).isInstanceOfSatisfying(RegistryException.class, e -> {
            if (e.code() != code || !e.description().contains(reason)) {
                throw new AssertionError("expected " + code + " containing '" + reason + "' but got " + e);
            }
        });
    }
}
