package dev.vnet.dataplane.sys;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs code inside a named network namespace ({@code /run/netns/NAME}, as {@code ip netns add} makes).
 *
 * <p>{@code setns(CLONE_NEWNET)} switches only the calling thread, so the work runs on a fresh
 * platform thread that ends afterwards: the caller's namespace never changes. Sockets and devices
 * created there stay in that namespace after the thread ends.
 */
public final class NetworkNamespace {
    private static final Path NETNS_DIR = Path.of("/run/netns");

    private NetworkNamespace() {
    }

    public static <T> T call(String name, Callable<T> work) throws Exception {
        Path path = NETNS_DIR.resolve(name);
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("no network namespace " + name + " (" + path + ")");
        }
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("netns-" + name).start(() -> {
            Libc libc = new Libc();
            int fd = libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
            if (fd < 0) {
                failure.set(libc.failure("open(" + path + ")"));
                return;
            }
            try {
                if (libc.setns(fd, Libc.CLONE_NEWNET) < 0) {
                    failure.set(libc.failure("setns(" + name + ")"));
                    return;
                }
                result.set(work.call());
            } catch (Exception e) {
                failure.set(e);
            } finally {
                libc.close(fd);
            }
        });
        thread.join();
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }
}
