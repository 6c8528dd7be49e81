package dev.vnet.vsock.guest;

import dev.vnet.vsock.session.Errno;

import java.io.IOException;

/** The host answered an offloaded command with an error (an errno, as docs/vsock.md lists them). */
public final class OffloadException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public OffloadException(String what, int errno) {
        super(what + ": " + Errno.name(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    /** The host's access list denied it: final, never retried through the guest's own stack. */
    public boolean denied() {
        return errno == Errno.EACCES;
    }
}
