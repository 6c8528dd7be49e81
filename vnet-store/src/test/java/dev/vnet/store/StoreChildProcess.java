package dev.vnet.store;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The other process in {@link EmbeddedConfigStoreProcessTest}: a main class in the test sources,
 * started on the test's own class path.
 *
 * <ul>
 *   <li>{@code write DIR BALLAST_BYTES}: opens the store and puts k0, k1, ... (and, when BALLAST_BYTES
 *       is positive, overwrites "ballast" with that many bytes after each, which makes the log compact
 *       every few dozen keys). Each key is printed to stdout only after its writes returned: a printed
 *       key is an acknowledged write. Runs until killed, or 30 s in case nobody does.
 *   <li>{@code probe DIR}: tries to open the store and prints "opened" or "refused: " and the message.
 * </ul>
 */
public final class StoreChildProcess {
    static final long RUN_AT_MOST_NANOS = TimeUnit.SECONDS.toNanos(30);

    private StoreChildProcess() {
    }

    public static void main(String[] args) throws IOException {
        // Unbuffered, and one write per line: a line on the pipe is never half an acknowledgement.
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        Path directory = Path.of(args[1]);
        switch (args[0]) {
            case "write" -> write(directory, Integer.parseInt(args[2]), out);
            case "probe" -> probe(directory, out);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static void write(Path directory, int ballastBytes, OutputStream out) throws IOException {
        long deadline = System.nanoTime() + RUN_AT_MOST_NANOS;
        try (ConfigStore store = EmbeddedConfigStore.open(directory)) {
            for (int i = 0; System.nanoTime() < deadline; i++) {
                store.put(key(i), value(i));
                if (ballastBytes > 0) {
                    store.put("ballast", ballast(i, ballastBytes));
                }
                out.write((key(i) + "\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    private static void probe(Path directory, OutputStream out) throws IOException {
        String outcome;
        try {
            EmbeddedConfigStore.open(directory).close();
            outcome = "opened";
        } catch (IllegalStateException e) {
            outcome = "refused: " + e.getMessage();
        }
        out.write((outcome + "\n").getBytes(StandardCharsets.UTF_8));
    }

    static String key(int i) {
        return "k" + i;
    }

    /** Varies in length so that records end at all sorts of offsets. */
    static byte[] value(int i) {
        return ("value-" + i + "/").repeat(1 + i % 13).getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] ballast(int i, int bytes) {
        byte[] ballast = new byte[bytes];
        Arrays.fill(ballast, (byte) i);
        return ballast;
    }
}
