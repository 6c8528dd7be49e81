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
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    private static final int IFNAMSIZ = 16;
    private static final int IFREQ_SIZE = 40;

    private final String name;
    private final int fd;
    private volatile boolean closed;

    private TapDevice(String name, int fd) {
        this.name = name;
        this.fd = fd;
    }

    /** Creates a TAP named {@code name} in the calling thread's network namespace. */
    public static TapDevice create(String name) {
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
            ifreq.set(JAVA_SHORT, IFNAMSIZ, (short) (IFF_TAP | IFF_NO_PI));
            if (libc.ioctl(fd, TUNSETIFF, ifreq) < 0) {
                NativeException failure = libc.failure("ioctl(TUNSETIFF, " + name + ")");
                libc.close(fd);
                throw failure;
            }
            String actual = ifreq.getString(0, StandardCharsets.US_ASCII);
            return new TapDevice(actual, fd);
        }
    }

    public String name() {
        return name;
    }

    public int fd() {
        return fd;
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
