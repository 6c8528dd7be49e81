package dev.vnet.dataplane.sys;

/** A failed system call, with the errno it returned. */
public final class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public NativeException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
