package dev.vnet.dataplane.sys;

import dev.vnet.wire.Ipv4Address;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An IPv4 UDP socket on the underlay, driven through libc so that the fast path can pass native
 * buffer addresses straight to the kernel (and, later, use {@code UDP_SEGMENT}/{@code UDP_GRO}).
 */
public final class UdpSocket implements AutoCloseable {
    private static final int SOCKADDR_IN_SIZE = 16;
    private static final int SOCKET_BUFFER_BYTES = 4 << 20;

    private final int fd;
    private volatile boolean closed;

    private UdpSocket(int fd) {
        this.fd = fd;
    }

    /** Opens a socket bound to {@code address:port} (address as a host-order int, 0 = any). */
    public static UdpSocket bind(int address, int port) {
        Libc libc = new Libc();
        int fd = libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw libc.failure("socket(AF_INET, SOCK_DGRAM)");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocateFrom(JAVA_INT, SOCKET_BUFFER_BYTES);
            // Best effort: a small buffer only costs drops under bursts, which are counted.
            libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, size);
            libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, size);
            if (libc.bind(fd, socketAddress(arena, address, port)) < 0) {
                NativeException failure = libc.failure("bind(" + Ipv4Address.toString(address) + ":" + port + ")");
                libc.close(fd);
                throw failure;
            }
        }
        return new UdpSocket(fd);
    }

    /** A {@code struct sockaddr_in} for {@code address:port}, allocated in {@code arena}. */
    public static MemorySegment socketAddress(Arena arena, int address, int port) {
        MemorySegment sockaddr = arena.allocate(SOCKADDR_IN_SIZE, 4);
        sockaddr.set(JAVA_SHORT, 0, (short) Libc.AF_INET); // sin_family is host order
        sockaddr.set(JAVA_BYTE, 2, (byte) (port >>> 8));    // sin_port is network order
        sockaddr.set(JAVA_BYTE, 3, (byte) port);
        sockaddr.set(JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN), 4, address);
        return sockaddr;
    }

    /** @return bytes sent, or {@code -errno} */
    public int send(Libc libc, PacketBuffer buffer, int index, int length, MemorySegment destination) {
        long n = libc.sendto(fd, buffer.address(index), length, 0, destination.address(), (int) destination.byteSize());
        return n >= 0 ? (int) n : -libc.errno();
    }

    /** @return bytes received (one datagram, truncated to {@code maxLength}), or {@code -errno} */
    public int receive(Libc libc, PacketBuffer buffer, int index, int maxLength) {
        long n = libc.recvfrom(fd, buffer.address(index), maxLength, 0L, 0L);
        return n >= 0 ? (int) n : -libc.errno();
    }

    /** The port the kernel bound (useful after binding port 0). */
    public int fd() {
        return fd;
    }

    public int localPort() {
        Libc libc = new Libc();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sockaddr = arena.allocate(SOCKADDR_IN_SIZE, 4);
            MemorySegment length = arena.allocateFrom(JAVA_INT, SOCKADDR_IN_SIZE);
            if (libc.getsockname(fd, sockaddr, length) < 0) {
                throw libc.failure("getsockname");
            }
            return ((sockaddr.get(JAVA_BYTE, 2) & 0xFF) << 8) | (sockaddr.get(JAVA_BYTE, 3) & 0xFF);
        }
    }

    /** Lets the kernel hand over runs of same-size datagrams as one buffer ({@code UDP_GRO}). */
    public void enableGro() {
        Libc libc = new Libc();
        try (Arena arena = Arena.ofConfined()) {
            if (libc.setsockopt(fd, Libc.SOL_UDP, Libc.UDP_GRO, arena.allocateFrom(JAVA_INT, 1)) < 0) {
                throw libc.failure("setsockopt(UDP_GRO)");
            }
        }
    }

    /**
     * Sends {@code length} bytes as datagrams of {@code segmentSize} bytes each (the last may be shorter)
     * with one {@code sendmsg} and {@code UDP_SEGMENT}: the kernel cuts them, not us.
     *
     * @return bytes sent, or {@code -errno}
     */
    public int sendSegmented(Libc libc, Message message, PacketBuffer buffer, int index, int length, int segmentSize,
                             MemorySegment destination) {
        message.prepareSend(buffer.address(index), length, segmentSize, destination);
        long n = libc.sendmsg(fd, message.header.address(), 0);
        return n >= 0 ? (int) n : -libc.errno();
    }

    /**
     * Receives one datagram, or with {@link #enableGro()} a run of same-size datagrams from one sender,
     * back to back; {@link Message#segmentSize()} then says where each ends, and
     * {@link Message#senderAddress()}/{@link Message#senderPort()} who sent them.
     *
     * @return bytes received, or {@code -errno}
     */
    public int receiveBatch(Libc libc, Message message, PacketBuffer buffer, int index, int maxLength) {
        return receiveBatch(libc, message, buffer, index, maxLength, 0);
    }

    /** {@link #receiveBatch(Libc, Message, PacketBuffer, int, int)} with {@code recvmsg} flags (e.g. MSG_DONTWAIT). */
    public int receiveBatch(Libc libc, Message message, PacketBuffer buffer, int index, int maxLength, int flags) {
        message.prepareReceive(buffer.address(index), maxLength);
        long n = libc.recvmsg(fd, message.header.address(), flags);
        if (n < 0) {
            return -libc.errno();
        }
        message.readSegmentSize((int) n);
        return (int) n;
    }

    /**
     * A preallocated {@code struct msghdr} with one {@code iovec}, a control buffer and a sender
     * address, reused for every {@code sendmsg}/{@code recvmsg} of one thread (x86-64/aarch64 layout).
     */
    public static final class Message {
        private static final int MSGHDR_SIZE = 56;
        private static final int CONTROL_SIZE = 64;
        private static final int CMSG_HEADER = 16;
        private final MemorySegment header;
        private final MemorySegment iovec;
        private final MemorySegment control;
        private final MemorySegment sender;
        private int segmentSize;

        public Message(Arena arena) {
            header = arena.allocate(MSGHDR_SIZE, 8);
            iovec = arena.allocate(16, 8);
            control = arena.allocate(CONTROL_SIZE, 8);
            sender = arena.allocate(SOCKADDR_IN_SIZE, 8);
        }

        void prepareSend(long data, int length, int segment, MemorySegment destination) {
            iovec.set(JAVA_LONG, 0, data);
            iovec.set(JAVA_LONG, 8, length);
            header.set(JAVA_LONG, 0, destination.address());
            header.set(JAVA_INT, 8, (int) destination.byteSize());
            header.set(JAVA_LONG, 16, iovec.address());
            header.set(JAVA_LONG, 24, 1);
            if (segment > 0 && segment < length) {
                control.set(JAVA_LONG, 0, CMSG_HEADER + 2);           // cmsg_len = CMSG_LEN(sizeof(uint16_t))
                control.set(JAVA_INT, 8, Libc.SOL_UDP);
                control.set(JAVA_INT, 12, Libc.UDP_SEGMENT);
                control.set(JAVA_SHORT, CMSG_HEADER, (short) segment);
                header.set(JAVA_LONG, 32, control.address());
                header.set(JAVA_LONG, 40, CMSG_HEADER + 8);           // CMSG_SPACE(sizeof(uint16_t))
            } else {
                header.set(JAVA_LONG, 32, 0L);
                header.set(JAVA_LONG, 40, 0L);
            }
            header.set(JAVA_INT, 48, 0);
        }

        void prepareReceive(long data, int maxLength) {
            iovec.set(JAVA_LONG, 0, data);
            iovec.set(JAVA_LONG, 8, maxLength);
            header.set(JAVA_LONG, 0, sender.address());
            header.set(JAVA_INT, 8, SOCKADDR_IN_SIZE);
            header.set(JAVA_LONG, 16, iovec.address());
            header.set(JAVA_LONG, 24, 1);
            header.set(JAVA_LONG, 32, control.address());
            header.set(JAVA_LONG, 40, CONTROL_SIZE);
            header.set(JAVA_INT, 48, 0);
        }

        void readSegmentSize(int received) {
            segmentSize = received;
            long controlLength = header.get(JAVA_LONG, 40);
            long at = 0;
            while (at + CMSG_HEADER <= controlLength) {
                long length = control.get(JAVA_LONG, at);
                if (length < CMSG_HEADER) {
                    break;
                }
                if (control.get(JAVA_INT, at + 8) == Libc.SOL_UDP && control.get(JAVA_INT, at + 12) == Libc.UDP_GRO) {
                    int gro = control.get(JAVA_INT, at + CMSG_HEADER);
                    if (gro > 0) {
                        segmentSize = gro;
                    }
                }
                at += (length + 7) & ~7L;
            }
        }

        /** The size of each datagram of the last receive (only the last one may be shorter). */
        public int segmentSize() {
            return segmentSize;
        }

        public int senderAddress() {
            return sender.get(JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN), 4);
        }

        public int senderPort() {
            return ((sender.get(JAVA_BYTE, 2) & 0xFF) << 8) | (sender.get(JAVA_BYTE, 3) & 0xFF);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Wakes a thread blocked in {@link #receive} and releases the descriptor. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc libc = new Libc();
            libc.shutdown(fd, Libc.SHUT_RDWR);
            libc.close(fd);
        }
    }
}
