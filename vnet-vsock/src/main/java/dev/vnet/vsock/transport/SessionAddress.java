package dev.vnet.vsock.transport;

import dev.vnet.dataplane.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Where a session is: an abstract Unix name (namespace VMs) or an AF_VSOCK (CID, port) (real VMs),
 * encoded as the {@code sockaddr} the kernel wants.
 *
 * <p>An abstract Unix address is {@code sun_family} and a {@code sun_path} that starts with a NUL; the
 * name is the bytes after it, and the address length counts exactly those bytes (no terminator).
 * Abstract names live in the network namespace, not the file system: a VM's device bound in the VM's
 * namespace can be named only from there. {@code sockaddr_vm} is {@code sa_family_t svm_family;
 * unsigned short svm_reserved1; unsigned int svm_port; unsigned int svm_cid; unsigned char
 * svm_flags; unsigned char svm_zero[3]}: 16 bytes.
 */
public sealed interface SessionAddress {
    /** The guest connects to the host at this CID. */
    int VSOCK_CID_HOST = 2;
    int VSOCK_CID_ANY = -1;
    /** The port the host device listens on (and the guest connects to) by default. */
    int DEFAULT_VSOCK_PORT = 5;
    /** The abstract name of a namespace VM's device. */
    String DEFAULT_UNIX_NAME = "vnet-vsock";

    int family();

    /** The sockaddr in {@code arena}; {@link #length()} of its bytes are meaningful. */
    MemorySegment encode(Arena arena);

    int length();

    record AbstractUnix(String name) implements SessionAddress {
        private static final int PATH_MAX = 108;

        public AbstractUnix {
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            if (bytes.length == 0 || bytes.length > PATH_MAX - 1) {
                throw new IllegalArgumentException("an abstract Unix name is 1-" + (PATH_MAX - 1) + " bytes: '" + name + "'");
            }
        }

        @Override
        public int family() {
            return Libc.AF_UNIX;
        }

        @Override
        public MemorySegment encode(Arena arena) {
            MemorySegment address = arena.allocate(2 + PATH_MAX);
            address.set(JAVA_SHORT, 0, (short) Libc.AF_UNIX);
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            address.set(JAVA_BYTE, 2, (byte) 0);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, address, 3, bytes.length);
            return address;
        }

        @Override
        public int length() {
            return 2 + 1 + name.getBytes(StandardCharsets.UTF_8).length;
        }

        @Override
        public String toString() {
            return "unix:@" + name;
        }
    }

    record Vsock(int cid, int port) implements SessionAddress {
        @Override
        public int family() {
            return Libc.AF_VSOCK;
        }

        @Override
        public MemorySegment encode(Arena arena) {
            MemorySegment address = arena.allocate(16);
            address.set(JAVA_SHORT, 0, (short) Libc.AF_VSOCK);
            address.set(JAVA_INT.withOrder(ByteOrder.nativeOrder()), 4, port);
            address.set(JAVA_INT.withOrder(ByteOrder.nativeOrder()), 8, cid);
            return address;
        }

        @Override
        public int length() {
            return 16;
        }

        @Override
        public String toString() {
            return "vsock:" + (cid == VSOCK_CID_ANY ? "any" : Integer.toString(cid)) + ":" + port;
        }
    }

    /** Parses {@code unix:@NAME} or {@code vsock:CID:PORT} ({@code vsock:PORT} means the host, CID 2). */
    static SessionAddress parse(String text) {
        if (text.startsWith("unix:@")) {
            return new AbstractUnix(text.substring("unix:@".length()));
        }
        if (text.startsWith("vsock:")) {
            String[] parts = text.substring("vsock:".length()).split(":");
            try {
                if (parts.length == 1) {
                    return new Vsock(VSOCK_CID_HOST, Integer.parseInt(parts[0]));
                }
                if (parts.length == 2) {
                    return new Vsock(parts[0].equals("any") ? VSOCK_CID_ANY : Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("a session address is unix:@NAME or vsock:[CID:]PORT, not '" + text + "'");
    }
}
