package dev.vnet.dataplane.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls the data plane needs, bound once through the FFM API.
 *
 * <p>Buffer pointers on the per-packet calls ({@code read}, {@code write}, {@code sendto},
 * {@code recvfrom}) are passed as raw {@code long} addresses rather than {@link MemorySegment}s:
 * slicing a segment per packet would allocate, while {@code segment.address() + offset} does not.
 * Callers own the memory behind those addresses (preallocated native buffers).
 *
 * <p>{@code errno} is captured per call into a state segment that the calling thread owns, so
 * that one {@link Libc} instance per thread is race-free and allocation-free.
 */
public final class Libc {
    public static final int O_RDWR = 2;
    public static final int O_RDONLY = 0;
    public static final int O_CLOEXEC = 0x80000;
    public static final int AF_INET = 2;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_STREAM = 1;
    public static final int AF_UNIX = 1;
    public static final int AF_VSOCK = 40;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVTIMEO = 20;
    public static final int SHUT_RDWR = 2;
    public static final int SOL_UDP = 17;
    public static final int UDP_SEGMENT = 103;
    public static final int UDP_GRO = 104;
    public static final int CLONE_NEWNET = 0x40000000;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EBADF = 9;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int O_NONBLOCK = 0x800;
    public static final int MSG_DONTWAIT = 0x40;
    public static final short POLLIN = 1;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_VALUE = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SENDMSG = bind("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECVMSG = bind("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle READ = bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle WRITE = bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle SOCKET = bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = bind("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = bind("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = bind("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = bind("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SENDTO = bind("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECVFROM = bind("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle GETSOCKNAME = bind("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETSOCKOPT = bind("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = bind("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL = bind("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle POLL = bind("poll", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SETNS = bind("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private final MemorySegment callState;

    /** One instance per thread: the errno slot is not shared. */
    public Libc() {
        this.callState = Arena.ofAuto().allocate(CALL_STATE);
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** errno of this instance's last failed call. */
    public int errno() {
        return (int) ERRNO.get(callState, 0L);
    }

    public int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(callState, arena.allocateFrom(path), flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(callState, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int ioctl(int fd, long request, MemorySegment argument) {
        try {
            return (int) IOCTL.invokeExact(callState, fd, request, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An ioctl whose argument is a value, not a pointer (TUNSETOFFLOAD takes its flags this way). */
    public int ioctlValue(int fd, long request, long value) {
        try {
            return (int) IOCTL_VALUE.invokeExact(callState, fd, request, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code sendmsg} with a {@code struct msghdr} at a native address. */
    public long sendmsg(int fd, long messageAddress, int flags) {
        try {
            return (long) SENDMSG.invokeExact(callState, fd, messageAddress, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code recvmsg} with a {@code struct msghdr} at a native address. */
    public long recvmsg(int fd, long messageAddress, int flags) {
        try {
            return (long) RECVMSG.invokeExact(callState, fd, messageAddress, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** @return bytes read, or -1 with {@link #errno()} set */
    public long read(int fd, long address, long length) {
        try {
            return (long) READ.invokeExact(callState, fd, address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** @return bytes written, or -1 with {@link #errno()} set */
    public long write(int fd, long address, long length) {
        try {
            return (long) WRITE.invokeExact(callState, fd, address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int socket(int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(callState, domain, type, protocol);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int bind(int fd, MemorySegment sockaddr) {
        try {
            return (int) BIND.invokeExact(callState, fd, sockaddr, (int) sockaddr.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code connect} to the first {@code length} bytes of {@code sockaddr} (abstract Unix names are shorter than the struct). */
    public int connect(int fd, MemorySegment sockaddr, int length) {
        try {
            return (int) CONNECT.invokeExact(callState, fd, sockaddr, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code bind} to the first {@code length} bytes of {@code sockaddr}. */
    public int bind(int fd, MemorySegment sockaddr, int length) {
        try {
            return (int) BIND.invokeExact(callState, fd, sockaddr, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int listen(int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(callState, fd, backlog);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code accept4} without the peer's address (both pointers 0). */
    public int accept(int fd, int flags) {
        try {
            return (int) ACCEPT4.invokeExact(callState, fd, 0L, 0L, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long sendto(int fd, long address, long length, int flags, long sockaddrAddress, int sockaddrLength) {
        try {
            return (long) SENDTO.invokeExact(callState, fd, address, length, flags, sockaddrAddress, sockaddrLength);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Receives one datagram; the sender's sockaddr is written at {@code sockaddrAddress}, whose size the
     * caller puts (as an int) at {@code sockaddrLengthAddress} before the call. Both may be 0.
     */
    public long recvfrom(int fd, long address, long length, long sockaddrAddress, long sockaddrLengthAddress) {
        try {
            return (long) RECVFROM.invokeExact(callState, fd, address, length, 0, sockaddrAddress, sockaddrLengthAddress);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int setsockopt(int fd, int level, int option, MemorySegment value) {
        try {
            return (int) SETSOCKOPT.invokeExact(callState, fd, level, option, value, (int) value.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Writes the socket's own address into {@code sockaddr}; {@code length} holds its size as an int. */
    public int getsockname(int fd, MemorySegment sockaddr, MemorySegment length) {
        try {
            return (int) GETSOCKNAME.invokeExact(callState, fd, sockaddr, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int shutdown(int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(callState, fd, how);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code fcntl} with an int argument (or none, for the F_GET* commands). */
    public int fcntl(int fd, int command, int argument) {
        try {
            return (int) FCNTL.invokeExact(callState, fd, command, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code poll} over {@code count} {@code struct pollfd}s at a native address. */
    public int poll(long pollfdsAddress, long count, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(callState, pollfdsAddress, count, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int setns(int fd, int nstype) {
        try {
            return (int) SETNS.invokeExact(callState, fd, nstype);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An exception naming the failed call and the errno text. */
    public NativeException failure(String call) {
        int errno = errno();
        return new NativeException(call + " failed: " + strerror(errno) + " (errno " + errno + ")", errno);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

}
