package dev.vnet.vsock.session;

import dev.vnet.wire.vsock.VsockFrame;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

/**
 * The Linux errno a host-side failure is reported as (docs/vsock.md, status codes): the protocol's own
 * from {@link VsockFrame}, and the few more a session reports about itself.
 */
public final class Errno {
    public static final int OK = VsockFrame.STATUS_OK;
    public static final int ENOENT = VsockFrame.ENOENT;
    public static final int EIO = 5;
    public static final int EBADF = VsockFrame.EBADF;
    public static final int EAGAIN = VsockFrame.EAGAIN;
    public static final int EACCES = VsockFrame.EACCES;
    public static final int EINVAL = VsockFrame.EINVAL;
    public static final int EPROTO = 71;
    public static final int ENOPROTOOPT = VsockFrame.ENOPROTOOPT;
    public static final int EPROTONOSUPPORT = VsockFrame.EPROTONOSUPPORT;
    public static final int EOPNOTSUPP = 95;
    public static final int EADDRINUSE = VsockFrame.EADDRINUSE;
    public static final int ENETUNREACH = VsockFrame.ENETUNREACH;
    public static final int ECONNRESET = 104;
    public static final int ENOTCONN = VsockFrame.ENOTCONN;
    public static final int ETIMEDOUT = VsockFrame.ETIMEDOUT;
    public static final int ECONNREFUSED = VsockFrame.ECONNREFUSED;
    public static final int EHOSTUNREACH = VsockFrame.EHOSTUNREACH;

    private Errno() {
    }

    public static int of(Throwable failure) {
        if (failure instanceof UnknownHostException) {
            return ENOENT;
        }
        if (failure instanceof ConnectException || failure instanceof PortUnreachableException) {
            return failure.getMessage() != null && failure.getMessage().contains("timed out") ? ETIMEDOUT : ECONNREFUSED;
        }
        if (failure instanceof SocketTimeoutException) {
            return ETIMEDOUT;
        }
        if (failure instanceof NoRouteToHostException) {
            return EHOSTUNREACH;
        }
        if (failure instanceof java.net.BindException) {
            return EADDRINUSE;
        }
        if (failure instanceof IOException && failure.getMessage() != null) {
            String message = failure.getMessage();
            if (message.contains("Network is unreachable")) {
                return ENETUNREACH;
            }
            if (message.contains("Connection reset")) {
                return ECONNRESET;
            }
        }
        return EIO;
    }

    public static String name(int errno) {
        return switch (errno) {
            case OK -> "ok";
            case ENOENT -> "ENOENT";
            case EIO -> "EIO";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case EACCES -> "EACCES";
            case EINVAL -> "EINVAL";
            case EPROTO -> "EPROTO";
            case ENOPROTOOPT -> "ENOPROTOOPT";
            case EPROTONOSUPPORT -> "EPROTONOSUPPORT";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case EADDRINUSE -> "EADDRINUSE";
            case ENETUNREACH -> "ENETUNREACH";
            case ECONNRESET -> "ECONNRESET";
            case ENOTCONN -> "ENOTCONN";
            case ETIMEDOUT -> "ETIMEDOUT";
            case ECONNREFUSED -> "ECONNREFUSED";
            case EHOSTUNREACH -> "EHOSTUNREACH";
            default -> "errno " + errno;
        };
    }
}
