/*
 * The embedded engine: one machine, one directory, one append-only log.
 *
 * Files in the store directory
 *
 *   store.log                      the log: a header, then one record per put or delete
 *   store.lock                     held with an OS file lock while a store has the directory open
 *   store.log.new                  a log being written (first creation, compaction); never read
 *   store.log.discarded-at-N-T     bytes cut off the log at offset N when replay stopped there
 *
 * Log format (all integers big-endian)
 *
 *   header, once at offset 0:
 *   +-------------------+-------------------+
 *   | magic "VNKV"      | format version 1  |
 *   | 4 bytes           | int32             |
 *   +-------------------+-------------------+
 *
 *   then records, back to back:
 *   +----------+----------+-----------+------------+-----------------+-----------------+
 *   | length   | crc32    | operation | key length | key             | value           |
 *   | int32    | int32    | 1 byte    | int32      | key length bytes| the rest        |
 *   +----------+----------+-----------+------------+-----------------+-----------------+
 *              |<-------------------- covered by crc32 ------------------------------->|
 *   |<- 8 ---->|<----------------------------- length bytes -------------------------->|
 *
 *   length     bytes after the crc field: 1 + 4 + key length + value length
 *   crc32      CRC-32 (java.util.zip.CRC32) of exactly those bytes
 *   operation  1 = put, 2 = delete (a delete has no value bytes); 0 is never valid, so a zero-filled
 *              tail does not parse as a record
 *   key        UTF-8; the value is opaque
 *
 * Crash reasoning
 *
 * Force before return. A put or delete appends its record and calls FileChannel.force(false)
 * (fdatasync) before it returns; only then is it acknowledged. Data that is merely written sits in
 * the page cache, which kill -9 does not lose but a power cut or kernel crash does; the contract
 * promises durability for a write that returned, so the force has to come first.
 *
 * Truncating a torn tail is safe. Writes are serialized and each is forced before the next one
 * starts, so at any moment at most one record can be partly on disk: the last one, whose put had not
 * returned. Replay reads records in order and stops at the first one that is cut short, has an
 * impossible length, fails its CRC or does not parse; everything before that point is whole and
 * replayed. Cutting the file there discards only bytes of a write nobody was told succeeded, and
 * makes the next append start on a record boundary instead of after garbage.
 *
 * The same rule applies to damage in the middle of the log (a flipped bit, not a crash): replay
 * stops at the damaged record, and the records after it, although they were acknowledged, are
 * dropped from the store, because a log cannot tell where the next record starts once a length may
 * be wrong. They are not destroyed: the cut-off bytes are copied to store.log.discarded-at-N-T (and
 * a warning names the offset) before the log is truncated.
 *
 * Rename makes compaction atomic. When the log is larger than 4 MiB and twice what its live entries
 * need, the live entries are written to store.log.new, which is forced, then renamed over store.log
 * with ATOMIC_MOVE, and the directory is forced so that the rename itself is durable. A crash before
 * the rename leaves the old log complete (store.log.new is deleted at the next open); after the
 * rename, the name points at the new log, complete because it was forced before the rename. Without
 * the directory force, a crash could bring the old log back under the name after later writes had
 * gone to the new one, losing them. A new, empty log is created the same way, so a log that exists
 * always has a complete header.
 *
 * Failed writes. A write that fails (an I/O error, or an interrupt arriving during the write or
 * force, which closes a FileChannel) is undone by cutting the log back to where its record began and
 * forcing that; the put then throws and has not happened (unless the process dies before the undo,
 * like any put that has not returned). If even the undo fails, the store refuses further writes until
 * it is reopened, and replay deals with whatever was left. An interrupt already pending when a put
 * starts is set aside during the I/O and restored after, so it neither fails the put nor closes the
 * log under other threads.
 */
package dev.vnet.registry.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * The store for a single machine: an append-only log in a directory, replayed into memory on open.
 * The file format and the reasoning about crashes are at the top of this file.
 *
 * <p>Reads are served from memory. Writes are serialized and each one waits for its own fsync, so
 * write throughput is bounded by the disk's flush latency; the registry writes rarely.
 */
public final class EmbeddedKeyValueStore implements KeyValueStore {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKeyValueStore.class);

    static final String LOG_FILE_NAME = "store.log";
    static final String NEW_LOG_FILE_NAME = "store.log.new";
    static final String LOCK_FILE_NAME = "store.lock";
    static final String DISCARDED_FILE_PREFIX = "store.log.discarded-at-";

    static final int MAGIC = 0x564E_4B56; // "VNKV"
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 8;
    static final int RECORD_PREFIX_BYTES = 8; // length, crc32
    private static final int BODY_FIXED_BYTES = 5; // operation, key length
    /** Far above what the registry stores; it bounds what a damaged length field can make replay read. */
    static final int MAX_BODY_BYTES = 64 << 20;
    static final long COMPACTION_MIN_LOG_BYTES = 4L << 20;
    private static final byte PUT = 1;
    private static final byte DELETE = 2;
    private static final byte[] NO_VALUE = new byte[0];

    /**
     * Directories held by a store in this JVM. The OS lock alone cannot guard against a second open
     * here: POSIX drops every lock a process holds on a file as soon as any descriptor of that file is
     * closed, so a refused second open that closed its own channel to the lock file would silently
     * unlock the first store.
     */
    private static final Set<Path> OPEN_DIRECTORIES = ConcurrentHashMap.newKeySet();

    private final Path directory;
    private final Path logPath;
    private final FileChannel lockChannel;
    private final TreeMap<String, byte[]> entries = new TreeMap<>();
    private FileChannel log;
    private long logBytes;
    /** What a log holding only the live entries would take: header plus one put per entry. */
    private long liveBytes = HEADER_BYTES;
    /** After a failed compaction, wait for this much log before trying again rather than on every write. */
    private long compactionDeferredUntilLogBytes;
    private IOException unrecoveredWriteFailure;
    private boolean closed;

    private EmbeddedKeyValueStore(Path directory, FileChannel lockChannel) {
        this.directory = directory;
        this.logPath = directory.resolve(LOG_FILE_NAME);
        this.lockChannel = lockChannel;
    }

    /**
     * Opens the store in {@code directory}, creating the directory and an empty log if needed, and
     * replays the log into memory.
     *
     * @throws IllegalStateException if the store cannot be opened: the directory cannot be created
     *     or written, another store (in this or another process) has it open, or the log is not a
     *     store log this build can read. The message names the path and the reason.
     */
    public static EmbeddedKeyValueStore open(Path directory) {
        Path realDirectory = createDirectory(directory);
        if (!OPEN_DIRECTORIES.add(realDirectory)) {
            throw inUse(realDirectory);
        }
        FileChannel lockChannel = null;
        try {
            lockChannel = lockDirectory(realDirectory);
            EmbeddedKeyValueStore store = new EmbeddedKeyValueStore(realDirectory, lockChannel);
            store.load();
            return store;
        } catch (IOException e) {
            closeQuietly(lockChannel);
            OPEN_DIRECTORIES.remove(realDirectory);
            throw new IllegalStateException("cannot open the store in " + realDirectory + ": " + reason(e), e);
        } catch (RuntimeException | Error e) {
            closeQuietly(lockChannel);
            OPEN_DIRECTORIES.remove(realDirectory);
            throw e;
        }
    }

    @Override
    public synchronized Optional<byte[]> get(String key) {
        checkKey(key);
        checkOpen();
        return Optional.ofNullable(entries.get(key)).map(byte[]::clone);
    }

    @Override
    public void put(String key, byte[] value) {
        byte[] keyBytes = encodeKey(key);
        if (value == null) {
            throw new IllegalArgumentException("value of " + key + " is null");
        }
        if ((long) BODY_FIXED_BYTES + keyBytes.length + value.length > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("key and value of " + key + " take "
                    + (keyBytes.length + value.length) + " bytes; the store takes at most "
                    + (MAX_BODY_BYTES - BODY_FIXED_BYTES));
        }
        byte[] copy = value.clone();
        ByteBuffer record = encodeRecord(PUT, keyBytes, copy);
        // FileChannel I/O by an interrupted thread closes the channel, for every thread; see "Failed writes".
        boolean interrupted = Thread.interrupted();
        try {
            synchronized (this) {
                checkWritable();
                append(record);
                byte[] previous = entries.put(key, copy);
                if (previous != null) {
                    liveBytes -= recordBytes(keyBytes.length, previous.length);
                }
                liveBytes += record.limit();
                compactIfWorthIt();
            }
        } finally {
            restoreInterrupt(interrupted);
        }
    }

    @Override
    public boolean delete(String key) {
        byte[] keyBytes = encodeKey(key);
        ByteBuffer record = encodeRecord(DELETE, keyBytes, NO_VALUE);
        boolean interrupted = Thread.interrupted();
        try {
            synchronized (this) {
                checkWritable();
                if (!entries.containsKey(key)) {
                    return false;
                }
                append(record);
                byte[] previous = entries.remove(key);
                liveBytes -= recordBytes(keyBytes.length, previous.length);
                compactIfWorthIt();
                return true;
            }
        } finally {
            restoreInterrupt(interrupted);
        }
    }

    @Override
    public synchronized SortedMap<String, byte[]> scan(String prefix) {
        if (prefix == null) {
            throw new IllegalArgumentException("scan prefix is null (the empty prefix means every entry)");
        }
        checkOpen();
        TreeMap<String, byte[]> result = new TreeMap<>();
        for (Map.Entry<String, byte[]> entry : entries.tailMap(prefix, true).entrySet()) {
            if (!entry.getKey().startsWith(prefix)) {
                break;
            }
            result.put(entry.getKey(), entry.getValue().clone());
        }
        return Collections.unmodifiableSortedMap(result);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(log);
        closeQuietly(lockChannel); // releases the OS lock
        OPEN_DIRECTORIES.remove(directory);
    }

    @Override
    public String toString() {
        return "EmbeddedKeyValueStore[" + directory + "]";
    }

    // ---- opening ----

    private static Path createDirectory(Path directory) {
        try {
            Files.createDirectories(directory);
            return directory.toRealPath();
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("cannot create store directory " + directory + ": "
                    + e.getFile() + " exists and is not a directory", e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create store directory " + directory + ": " + reason(e), e);
        }
    }

    private static FileChannel lockDirectory(Path directory) {
        FileChannel channel;
        try {
            channel = FileChannel.open(directory.resolve(LOCK_FILE_NAME), CREATE, WRITE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write in store directory " + directory + ": " + reason(e), e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // This JVM holds the lock under another path to the same directory (a bind mount).
            // Closing this channel would release that lock too (see OPEN_DIRECTORIES), so it stays open.
            throw inUse(directory);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new IllegalStateException("cannot lock " + directory.resolve(LOCK_FILE_NAME) + ": " + reason(e), e);
        }
        if (lock == null) {
            closeQuietly(channel);
            throw inUse(directory);
        }
        return channel;
    }

    private static IllegalStateException inUse(Path directory) {
        return new IllegalStateException("store directory " + directory + " is in use by another process");
    }

    private synchronized void load() throws IOException {
        Path newLogPath = directory.resolve(NEW_LOG_FILE_NAME);
        // Left by a crash during creation or compaction, before its rename: store.log is the truth.
        Files.deleteIfExists(newLogPath);
        if (!Files.exists(logPath)) {
            createEmptyLog();
        }
        log = FileChannel.open(logPath, READ, WRITE);
        try {
            checkHeader();
            replay();
        } catch (IOException | RuntimeException e) {
            closeQuietly(log);
            throw e;
        }
    }

    private void createEmptyLog() {
        Path newLogPath = directory.resolve(NEW_LOG_FILE_NAME);
        try {
            try (FileChannel fresh = FileChannel.open(newLogPath, CREATE, TRUNCATE_EXISTING, WRITE)) {
                writeFully(fresh, header(), 0);
                fresh.force(true);
            }
            Files.move(newLogPath, logPath, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write in store directory " + directory + ": " + reason(e), e);
        }
    }

    private void checkHeader() throws IOException {
        long size = log.size();
        if (size < HEADER_BYTES) {
            throw notOurs("it is " + size + " bytes long, shorter than a store log header");
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        readFully(log, header, 0);
        int magic = header.getInt(0);
        int version = header.getInt(4);
        if (magic != MAGIC) {
            throw notOurs(String.format("it starts with 0x%08x, not the store log magic 0x%08x (\"VNKV\")", magic, MAGIC));
        }
        if (version != FORMAT_VERSION) {
            throw notOurs("it is in store log format " + version + "; this build reads format " + FORMAT_VERSION);
        }
    }

    private IllegalStateException notOurs(String why) {
        return new IllegalStateException("refusing to open " + logPath + ": " + why
                + ". The file was left untouched; move it away if it does not belong there.");
    }

    private void replay() throws IOException {
        long fileBytes = log.size();
        long offset = HEADER_BYTES;
        log.position(HEADER_BYTES);
        // Not closed: closing the stream would close the log channel.
        DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(log), 1 << 16));
        String problem = null;
        CRC32 crc = new CRC32();
        while (offset < fileBytes) {
            long remaining = fileBytes - offset;
            if (remaining < RECORD_PREFIX_BYTES) {
                problem = "only " + remaining + " bytes left, less than a record's length and CRC";
                break;
            }
            int length = in.readInt();
            int expectedCrc = in.readInt();
            if (length < BODY_FIXED_BYTES || length > MAX_BODY_BYTES) {
                problem = "impossible record length " + length;
                break;
            }
            if (length > remaining - RECORD_PREFIX_BYTES) {
                problem = "record of " + length + " bytes is cut short at " + (remaining - RECORD_PREFIX_BYTES);
                break;
            }
            byte[] body = in.readNBytes(length);
            crc.reset();
            crc.update(body);
            if ((int) crc.getValue() != expectedCrc) {
                problem = "CRC mismatch";
                break;
            }
            problem = apply(body);
            if (problem != null) {
                break;
            }
            offset += RECORD_PREFIX_BYTES + length;
        }
        if (problem != null) {
            discardFrom(offset, fileBytes, problem);
        }
        logBytes = offset;
    }

    /** @return why the record cannot be applied, or null once it has been */
    private String apply(byte[] body) {
        ByteBuffer record = ByteBuffer.wrap(body);
        byte operation = record.get();
        int keyLength = record.getInt();
        int valueLength = body.length - BODY_FIXED_BYTES - keyLength;
        if (keyLength <= 0 || valueLength < 0) {
            return "impossible key length " + keyLength;
        }
        String key;
        try {
            key = StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(body, BODY_FIXED_BYTES, keyLength)).toString();
        } catch (CharacterCodingException e) {
            return "key is not UTF-8";
        }
        switch (operation) {
            case PUT -> {
                byte[] value = new byte[valueLength];
                System.arraycopy(body, BODY_FIXED_BYTES + keyLength, value, 0, valueLength);
                byte[] previous = entries.put(key, value);
                if (previous != null) {
                    liveBytes -= recordBytes(keyLength, previous.length);
                }
                liveBytes += recordBytes(keyLength, valueLength);
            }
            case DELETE -> {
                if (valueLength != 0) {
                    return "delete record carries a value";
                }
                byte[] previous = entries.remove(key);
                if (previous != null) {
                    liveBytes -= recordBytes(keyLength, previous.length);
                }
            }
            default -> {
                return "unknown operation " + operation;
            }
        }
        return null;
    }

    private void discardFrom(long offset, long fileBytes, String problem) throws IOException {
        long discarded = fileBytes - offset;
        Path keptAt = directory.resolve(DISCARDED_FILE_PREFIX + offset + "-" + System.currentTimeMillis());
        try (FileChannel copy = FileChannel.open(keptAt, CREATE, TRUNCATE_EXISTING, WRITE)) {
            long copied = 0;
            while (copied < discarded) {
                copied += log.transferTo(offset + copied, discarded - copied, copy);
            }
            copy.force(true);
        }
        forceDirectory();
        LOG.warn("store log {}: replay stopped at byte offset {} ({}); the {} bytes from there on are not part of"
                        + " the store any more. After a crash this is the unacknowledged write it interrupted;"
                        + " anywhere else it is damage. The bytes are kept in {}.",
                logPath, offset, problem, discarded, keptAt);
        log.truncate(offset);
        log.force(true);
    }

    // ---- writing ----

    private void append(ByteBuffer record) {
        long start = logBytes;
        try {
            writeFully(log, record, start);
            log.force(false);
            logBytes = start + record.limit();
        } catch (IOException e) {
            undoFailedAppend(start, e);
            throw new UncheckedIOException("store log " + logPath + ": write failed and was undone: " + reason(e), e);
        }
    }

    private void undoFailedAppend(long recordStart, IOException failure) {
        try {
            retryingWhenInterrupted(() -> {
                if (!log.isOpen()) {
                    log = FileChannel.open(logPath, READ, WRITE);
                }
                log.truncate(recordStart);
                log.force(true);
            });
        } catch (IOException e) {
            failure.addSuppressed(e);
            unrecoveredWriteFailure = failure;
            LOG.error("store log {}: a failed write could not be undone; the store refuses writes until reopened",
                    logPath, failure);
        }
    }

    private void compactIfWorthIt() {
        if (logBytes <= COMPACTION_MIN_LOG_BYTES || logBytes <= 2 * liveBytes
                || logBytes < compactionDeferredUntilLogBytes) {
            return;
        }
        Path newLogPath = directory.resolve(NEW_LOG_FILE_NAME);
        long oldLogBytes = logBytes;
        FileChannel fresh = null;
        boolean renamed = false;
        try {
            fresh = FileChannel.open(newLogPath, CREATE, TRUNCATE_EXISTING, READ, WRITE);
            long freshBytes = writeLiveEntries(fresh);
            fresh.force(true);
            Files.move(newLogPath, logPath, StandardCopyOption.ATOMIC_MOVE);
            renamed = true;
            forceDirectory();
            FileChannel old = log;
            log = fresh;
            fresh = null;
            logBytes = freshBytes;
            closeQuietly(old);
            LOG.info("store log {}: compacted {} bytes to {}", logPath, oldLogBytes, freshBytes);
        } catch (IOException e) {
            if (renamed) {
                // Whether the rename survives a crash is unknown; writes to either file could be lost.
                unrecoveredWriteFailure = e;
                LOG.error("store log {}: compaction could not make its rename durable; the store refuses writes"
                        + " until reopened", logPath, e);
            } else {
                compactionDeferredUntilLogBytes = logBytes + COMPACTION_MIN_LOG_BYTES;
                LOG.warn("store log {}: compaction failed, the log keeps growing: {}", logPath, reason(e), e);
                deleteQuietly(newLogPath);
            }
        } finally {
            closeQuietly(fresh);
        }
    }

    private long writeLiveEntries(FileChannel channel) throws IOException {
        ByteBuffer batch = ByteBuffer.allocate(256 << 10);
        batch.put(header());
        long position = 0;
        for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
            ByteBuffer record = encodeRecord(PUT, entry.getKey().getBytes(StandardCharsets.UTF_8), entry.getValue());
            if (record.remaining() > batch.remaining()) {
                position += writeFully(channel, batch.flip(), position);
                batch.clear();
            }
            if (record.remaining() > batch.capacity()) {
                position += writeFully(channel, record, position);
            } else {
                batch.put(record);
            }
        }
        position += writeFully(channel, batch.flip(), position);
        return position;
    }

    private void forceDirectory() throws IOException {
        // Makes renames and new names in the directory durable; Linux allows fsync on a directory opened for reading.
        retryingWhenInterrupted(() -> {
            try (FileChannel channel = FileChannel.open(directory, READ)) {
                channel.force(true);
            }
        });
    }

    private interface IoAction {
        void run() throws IOException;
    }

    /**
     * Runs an action that may simply be repeated, with the interrupt flag set aside, again if an
     * interrupt arriving meanwhile closed the channel under it; the flag is restored afterwards. Put
     * and delete set the flag aside too, so only an interrupt arriving during the I/O gets here.
     */
    private static void retryingWhenInterrupted(IoAction action) throws IOException {
        boolean interrupted = false;
        try {
            for (int attempt = 1; ; attempt++) {
                interrupted |= Thread.interrupted();
                try {
                    action.run();
                    return;
                } catch (ClosedByInterruptException e) {
                    if (attempt == 10) {
                        throw e;
                    }
                }
            }
        } finally {
            restoreInterrupt(interrupted || Thread.interrupted());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("store in " + directory + " is closed");
        }
    }

    private void checkWritable() {
        checkOpen();
        if (unrecoveredWriteFailure != null) {
            throw new IllegalStateException("store in " + directory + " refuses writes after a failure it could not"
                    + " undo (" + reason(unrecoveredWriteFailure) + "); reopen it", unrecoveredWriteFailure);
        }
    }

    // ---- encoding ----

    private static ByteBuffer header() {
        return ByteBuffer.allocate(HEADER_BYTES).putInt(MAGIC).putInt(FORMAT_VERSION).flip();
    }

    private static ByteBuffer encodeRecord(byte operation, byte[] key, byte[] value) {
        int bodyBytes = BODY_FIXED_BYTES + key.length + value.length;
        ByteBuffer record = ByteBuffer.allocate(RECORD_PREFIX_BYTES + bodyBytes);
        record.putInt(bodyBytes).putInt(0).put(operation).putInt(key.length).put(key).put(value);
        CRC32 crc = new CRC32();
        crc.update(record.array(), RECORD_PREFIX_BYTES, bodyBytes);
        record.putInt(4, (int) crc.getValue());
        return record.flip();
    }

    private static long recordBytes(int keyBytes, int valueBytes) {
        return (long) RECORD_PREFIX_BYTES + BODY_FIXED_BYTES + keyBytes + valueBytes;
    }

    private static void checkKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a store key must be a non-empty string");
        }
    }

    private static byte[] encodeKey(String key) {
        checkKey(key);
        try {
            // Strict: the default String.getBytes would turn an unpaired surrogate into '?', so the key
            // read back after a restart would not be the key that was written.
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(key));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("store key is not valid Unicode: unpaired surrogate at index "
                    + unpairedSurrogateIndex(key), e);
        }
    }

    private static int unpairedSurrogateIndex(String key) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < key.length() && Character.isLowSurrogate(key.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    // ---- I/O helpers ----

    private static int writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        int length = buffer.remaining();
        int written = 0;
        while (written < length) {
            written += channel.write(buffer, position + written);
        }
        return length;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new IOException("unexpected end of " + channel + " at " + at);
            }
            at += read;
        }
    }

    private static void restoreInterrupt(boolean interrupted) {
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.debug("closing {} failed", closeable, e);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.debug("deleting {} failed", path, e);
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fileSystem && fileSystem.getReason() != null) {
            return fileSystem.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
