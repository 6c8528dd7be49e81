package dev.vnet.vsock.transport;

import dev.vnet.dataplane.sys.Libc;
import dev.vnet.dataplane.sys.NetworkNamespace;

import java.io.IOException;
import java.lang.foreign.Arena;

/** Opens session sockets: a device's listener (in a VM's namespace, or the current one) and a guest's connection. */
public final class SessionSockets {
    private SessionSockets() {
    }

    /** A listener bound to {@code address} in the calling thread's network namespace. */
    public static Listener listen(SessionAddress address) throws IOException {
        Libc libc = new Libc();
        int fd = libc.socket(address.family(), Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket(" + address + "): " + Libc.strerror(libc.errno()));
        }
        try (Arena arena = Arena.ofConfined()) {
            if (libc.bind(fd, address.encode(arena), address.length()) < 0) {
                throw new IOException("bind(" + address + "): " + Libc.strerror(libc.errno()));
            }
            if (libc.listen(fd, 16) < 0) {
                throw new IOException("listen(" + address + "): " + Libc.strerror(libc.errno()));
            }
            return new Listener(fd, address);
        } catch (IOException e) {
            libc.close(fd);
            throw e;
        }
    }

    /**
     * A listener bound to {@code address} inside network namespace {@code namespace}: the socket stays
     * in that namespace, so an abstract Unix name is reachable only from processes there.
     */
    public static Listener listenIn(String namespace, SessionAddress address) throws IOException {
        try {
            return NetworkNamespace.call(namespace, () -> listen(address));
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("listen in " + namespace + ": " + e.getMessage(), e);
        }
    }

    /** Connects to a device at {@code address} from the calling thread's namespace. */
    public static SessionSocket connect(SessionAddress address) throws IOException {
        Libc libc = new Libc();
        int fd = libc.socket(address.family(), Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket(" + address + "): " + Libc.strerror(libc.errno()));
        }
        try (Arena arena = Arena.ofConfined()) {
            if (libc.connect(fd, address.encode(arena), address.length()) < 0) {
                int errno = libc.errno();
                libc.close(fd);
                throw new IOException("connect(" + address + "): " + Libc.strerror(errno));
            }
        }
        return new SessionSocket(fd);
    }

    /** A listening device socket; {@link #accept} blocks, so it runs on a platform thread. */
    public static final class Listener implements AutoCloseable {
        private final int fd;
        private final SessionAddress address;
        private final Libc libc = new Libc();
        private volatile boolean closed;

        Listener(int fd, SessionAddress address) {
            this.fd = fd;
            this.address = address;
        }

        public SessionAddress address() {
            return address;
        }

        /** The next guest's session; throws once {@link #close} ran. */
        public SessionSocket accept() throws IOException {
            while (true) {
                int connection = libc.accept(fd, Libc.SOCK_CLOEXEC);
                if (connection >= 0) {
                    return new SessionSocket(connection);
                }
                if (closed) {
                    throw new IOException("listener " + address + " closed");
                }
                if (libc.errno() != Libc.EINTR) {
                    throw new IOException("accept(" + address + "): " + Libc.strerror(libc.errno()));
                }
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            Libc closer = new Libc();
            closer.shutdown(fd, Libc.SHUT_RDWR); // wakes a blocked accept
            closer.close(fd);
        }
    }
}
