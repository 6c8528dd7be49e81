package dev.vnet.dataplane.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A TAP device opened through {@code /dev/net/tun}: the file descriptor is the VM's NIC cable.
 *
 * <p>Creation is {@code open("/dev/net/tun")} then {@code ioctl(TUNSETIFF)} with a {@code struct ifreq}
 * (16 bytes of name, then the flags as a short). {@code IFF_NO_PI} means every read returns exactly one
 * Ethernet frame and every write takes one, with no packet-information prefix. The device is not
 * persistent: it disappears when the last descriptor closes, so a crashed agent leaves no device
 * behind. The device may be moved to another network namespace; the descriptor stays valid.
 */
public final class TapDevice implements AutoCloseable {
    /** {@code _IOW('T', 202, int)}. */
    static final long TUNSETIFF = 0x400454CAL;
    static final short IFF_TUN = 0x0001;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final short IFF_VNET_HDR = 0x4000;
    /** {@code _IOW('T', 208, unsigned int)}. */
    static final long TUNSETOFFLOAD = 0x400454D0L;
    static final int TUN_F_CSUM = 0x01;
    static final int TUN_F_TSO4 = 0x02;
    static final int TUN_F_TSO6 = 0x04;
    static final int TUN_F_TSO_ECN = 0x08;
    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;

    private final String name;
    private final int fd;
    private final boolean offloads;
    private volatile boolean closed;

    private TapDevice(String name, int fd, boolean offloads) {
        this.name = name;
        this.fd = fd;
        this.offloads = offloads;
    }

    /** Creates a TAP named {@code name} in the calling thread's network namespace, without offloads. */
    public static TapDevice create(String name) {
        return create(name, false);
    }

    /**
     * Creates a TAP named {@code name} in the calling thread's network namespace.
     *
     * @param offloads with {@code IFF_VNET_HDR} every frame carries a {@code virtio_net_hdr} both ways,
     *                 and {@code TUNSETOFFLOAD} lets the VM's kernel hand over unchecksummed packets and
     *                 TCP super-frames of up to 64 KB (and accept them from us)
     */
    public static TapDevice create(String name, boolean offloads) {
        return open(name, (short) (IFF_TAP | IFF_NO_PI | (offloads ? IFF_VNET_HDR : 0)), offloads);
    }

    /**
     * Creates a TUN device: the same file descriptor interface at layer 3, every read and write one
     * IPv4 (or IPv6) packet with no link header. A gateway's public side is one.
     */
    public static TapDevice createTun(String name) {
        return open(name, (short) (IFF_TUN | IFF_NO_PI), false);
    }

    private static TapDevice open(String name, short flags, boolean offloads) {
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name must be 1-15 characters: '" + name + "'");
        }
        Libc libc = new Libc();
        int fd = libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0) {
            throw libc.failure("open(/dev/net/tun)");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifreq = arena.allocate(IFREQ_SIZE);
            MemorySegment.copy(MemorySegment.ofArray(nameBytes), 0, ifreq, 0, nameBytes.length);
            ifreq.set(JAVA_SHORT, IFNAMSIZ, flags);
            if (libc.ioctl(fd, TUNSETIFF, ifreq) < 0) {
                NativeException failure = libc.failure("ioctl(TUNSETIFF, " + name + ")");
                libc.close(fd);
                throw failure;
            }
            if (offloads && libc.ioctlValue(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0) {
                NativeException failure = libc.failure("ioctl(TUNSETOFFLOAD, " + name + ")");
                libc.close(fd);
                throw failure;
            }
            String actual = ifreq.getString(0, StandardCharsets.US_ASCII);
            return new TapDevice(actual, fd, offloads);
        }
    }

    public String name() {
        return name;
    }

    public int fd() {
        return fd;
    }

    /** Whether every frame read or written carries a {@code virtio_net_hdr} in front. */
    public boolean offloads() {
        return offloads;
    }

    /**
     * Reads one frame into {@code buffer} at {@code index}.
     *
     * @return the frame length, or {@code -errno}
     */
    public int read(Libc libc, PacketBuffer buffer, int index, int maxLength) {
        long n = libc.read(fd, buffer.address(index), maxLength);
        return n >= 0 ? (int) n : -libc.errno();
    }

    /** Writes one frame. @return bytes written, or {@code -errno} */
    public int write(Libc libc, PacketBuffer buffer, int index, int length) {
        long n = libc.write(fd, buffer.address(index), length);
        return n >= 0 ? (int) n : -libc.errno();
    }

    /**
     * Makes reads return {@code -EAGAIN} instead of blocking, for a reader that polls
     * ({@link ReadinessWait}). Writes to a TAP never wait for the reader either way.
     */
    public void nonBlocking(Libc libc) {
        int flags = libc.fcntl(fd, Libc.F_GETFL, 0);
        if (flags < 0 || libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) < 0) {
            throw libc.failure("fcntl(" + name + ", O_NONBLOCK)");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            new Libc().close(fd);
        }
    }
}
