package dev.vnet.vsock.mapper;

import java.util.Locale;

/** The host-side socket handler that carries out an allowed command. */
public enum HandlerKind {
    TCP, UDP, DNS, HTTP;

    /** As a policy file and the counters write it: {@code tcp}. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }
}
