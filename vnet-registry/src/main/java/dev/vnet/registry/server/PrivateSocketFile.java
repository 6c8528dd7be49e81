package dev.vnet.registry.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;

/**
 * A Unix socket file only its owner can connect to (mode 0600), for the admin listeners (the registry's
 * gRPC, the controller's REST API), whoever binds the socket.
 *
 * <p>The file never exists with the process umask's mode, not even for a moment: the listener is bound
 * inside a new private (0700) directory next to the requested path, made 0600 there, and then renamed
 * into place. A stale socket from a crashed process is replaced; a live one (something accepts
 * connections) or a file that is not a socket is left alone and the start fails. At close the file is
 * deleted only if it is still the one this process created (by file key), not a successor's.
 */
public final class PrivateSocketFile {
    /** sun_path is 108 bytes including the terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;
    private static final int SOCKET_FILE_TYPE_MASK = 0170000;
    private static final int SOCKET_FILE_TYPE = 0140000;
    private static final Logger LOG = LoggerFactory.getLogger(PrivateSocketFile.class);

    /** Binds a listener at a path; a failure must leave nothing listening. */
    @FunctionalInterface
    public interface Binder {
        void bind(Path path) throws IOException, InterruptedException;
    }

    private PrivateSocketFile() {
    }

    /**
     * Binds through {@code binder} and puts the socket at {@code target}.
     *
     * @return the socket file's key, for {@link #deleteIfOwn}
     */
    public static Object bind(Path target, Binder binder) throws IOException, InterruptedException {
        refuseLiveOrForeignFile(target);
        Path directory = Files.createTempDirectory(target.getParent(), ".vnet-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path bound = directory.resolve("s");
        try {
            for (Path path : new Path[]{target, bound}) {
                if (path.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
                    throw new IOException("Unix socket path " + path + " is longer than " + MAX_SOCKET_PATH_BYTES + " bytes; choose a shorter one");
                }
            }
            binder.bind(bound);
            Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
            Files.move(bound, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } finally {
            Files.deleteIfExists(bound);
            Files.deleteIfExists(directory);
        }
    }

    /** Deletes {@code socket} if it is still the file {@link #bind} created ({@code fileKey}). */
    public static void deleteIfOwn(Path socket, Object fileKey) {
        try {
            Object current = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (Objects.equals(current, fileKey)) {
                Files.delete(socket);
            }
        } catch (NoSuchFileException e) {
            // Already gone: nothing to clean up.
        } catch (IOException e) {
            LOG.warn("cannot delete the socket file {}: {}", socket, e.toString());
        }
    }

    private static void refuseLiveOrForeignFile(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & SOCKET_FILE_TYPE_MASK) != SOCKET_FILE_TYPE) {
            throw new IOException(socket + " exists and is not a socket; remove it or choose another path");
        }
        try {
            SocketChannel.open(UnixDomainSocketAddress.of(socket)).close();
        } catch (ConnectException e) {
            LOG.info("replacing stale socket {}", socket);
            return;
        }
        throw new IOException("another process is listening on " + socket);
    }
}
