/*
 * An append-only log of records in a directory: the durable half of the embedded engine. It knows
 * nothing of what the records mean (EmbeddedConfigStore encodes them); it frames them, checks them,
 * forces them to disk, and rewrites the whole log atomically when asked (compaction).
 *
 * Files in the directory
 *
 *   store.log                      the log: a header, then records
 *   store.lock                     held with an OS file lock while a log has the directory open
 *   store.log.new                  a log being written (first creation, compaction); never read
 *   store.log.discarded-at-N-T     bytes cut off the log at offset N when replay stopped there
 *
 * Format (all integers big-endian)
 *
 *   header, once at offset 0:  magic "VNCS" (int32) | format version (int32)
 *   then records, back to back:
 *   +----------+----------+-----------------------------+
 *   | length   | crc32    | body (length bytes, >= 1)   |
 *   | int32    | int32    |                             |
 *   +----------+----------+-----------------------------+
 *   crc32 is CRC-32 (java.util.zip.CRC32) of the body. A body's first byte is its kind, never 0, so a
 *   zero-filled tail does not parse as a record.
 *
 * Crash reasoning
 *
 * Force before return. append() writes its record and calls FileChannel.force(false) (fdatasync)
 * before it returns; only then may the caller acknowledge the write. Written-but-unforced data sits
 * in the page cache, which kill -9 does not lose but a power cut does; the store promises durability
 * for what it acknowledged, so the force comes first.
 *
 * Truncating a torn tail is safe. Appends are serialized and each is forced before the next starts,
 * so at most one record can be partly on disk: the last one, whose write was not acknowledged.
 * Replay reads records in order and stops at the first one that is cut short, has an impossible
 * length or fails its CRC, or that the caller's decoder rejects; everything before is whole. Cutting
 * the file there discards only a write nobody was told succeeded, and makes the next append start on
 * a record boundary.
 *
 * Damage in the middle (a flipped bit, not a crash) stops replay the same way: the records after it,
 * though acknowledged, are dropped from the store, because once a length may be wrong the log cannot
 * tell where the next record starts. They are not destroyed: the cut-off bytes are copied to
 * store.log.discarded-at-N-T, forced, and a warning names the offset, before the log is truncated.
 *
 * Rename makes rewriting atomic. rewrite() writes the new records to store.log.new, forces it,
 * renames it over store.log with ATOMIC_MOVE, and forces the directory so that the rename is durable.
 * A crash before the rename leaves the old log complete (store.log.new is deleted at the next open);
 * after it, the name points at the new log, complete because it was forced first. Without the
 * directory force, a crash could bring the old log back under the name after later appends had gone
 * to the new one, losing them. A new empty log is created the same way, so a log that exists always
 * has a complete header.
 *
 * Failed appends are undone by cutting the log back to where the record began and forcing that; the
 * append then throws and has not happened. If even the undo fails, the log refuses further appends
 * until reopened.
 *
 * Interrupts. FileChannel I/O by an interrupted thread closes the channel, for every thread. An
 * interrupt pending when an append or rewrite starts is set aside during its I/O and restored after;
 * one arriving during the I/O fails that append (undone as above) or rewrite (the old log stays). The
 * undo itself, and forcing the directory, run on a thread of their own that nothing interrupts, while
 * the caller waits: retried on the caller's thread, they could fail again and again under a caller
 * that keeps being interrupted, and a failed undo would leave the log refusing every thread's writes.
 */
package dev.vnet.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Function;
import java.util.zip.CRC32;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;

/** The log file of the embedded engine; format and crash reasoning at the top of this file. Not thread-safe. */
final class RecordLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RecordLog.class);

    static final String LOG_FILE_NAME = "store.log";
    static final String NEW_LOG_FILE_NAME = "store.log.new";
    static final String LOCK_FILE_NAME = "store.lock";
    static final String DISCARDED_FILE_PREFIX = "store.log.discarded-at-";
    static final int MAGIC = 0x564E_4353; // "VNCS"
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 8;
    static final int RECORD_PREFIX_BYTES = 8;
    /** Bounds what a damaged length field can make replay read. */
    static final int MAX_BODY_BYTES = 64 << 20;

    /**
     * Directories held by a log in this JVM. The OS lock alone cannot guard against a second open here:
     * POSIX drops every lock a process holds on a file as soon as any descriptor of that file is
     * closed, so a refused second open that closed its own channel to the lock file would silently
     * unlock the first.
     */
    private static final Set<Path> OPEN_DIRECTORIES = ConcurrentHashMap.newKeySet();

    private final Path directory;
    private final Path logPath;
    private final FileChannel lockChannel;
    private FileChannel log;
    private long logBytes;
    private IOException unrecoveredWriteFailure;
    private boolean closed;

    private RecordLog(Path directory, FileChannel lockChannel) {
        this.directory = directory;
        this.logPath = directory.resolve(LOG_FILE_NAME);
        this.lockChannel = lockChannel;
    }

    /**
     * Opens the log in {@code directory} (creating both if needed) and hands every whole record's body
     * to {@code replay}, which returns null once applied or why the record cannot be (replay stops
     * there, as at a torn record).
     *
     * @throws IllegalStateException naming the path and the reason, if the log cannot be opened
     */
    static RecordLog open(Path directory, Function<ByteBuffer, String> replay) {
        Path realDirectory = createDirectory(directory);
        if (!OPEN_DIRECTORIES.add(realDirectory)) {
            throw inUse(realDirectory);
        }
        FileChannel lockChannel = null;
        try {
            lockChannel = lockDirectory(realDirectory);
            RecordLog recordLog = new RecordLog(realDirectory, lockChannel);
            recordLog.load(replay);
            return recordLog;
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

    Path directory() {
        return directory;
    }

    long bytes() {
        return logBytes;
    }

    /** Appends one record and forces it to disk; on failure nothing was appended and this throws. */
    void append(byte[] body) {
        checkWritable();
        ByteBuffer record = frame(body);
        boolean interrupted = Thread.interrupted();
        long start = logBytes;
        try {
            writeFully(log, record, start);
            log.force(false);
            logBytes = start + record.limit();
        } catch (IOException e) {
            undoFailedAppend(start, e);
            throw new UncheckedIOException("store log " + logPath + ": write failed and was undone: " + reason(e), e);
        } finally {
            restoreInterrupt(interrupted || Thread.interrupted());
        }
    }

    /**
     * Replaces the log with exactly these records, atomically. On failure before the rename the old log
     * stays and this throws {@link UncheckedIOException}; if the rename's durability is unknown the log
     * refuses appends until reopened.
     */
    void rewrite(Iterable<byte[]> bodies) {
        checkWritable();
        Path newLogPath = directory.resolve(NEW_LOG_FILE_NAME);
        FileChannel fresh = null;
        boolean renamed = false;
        boolean interrupted = Thread.interrupted();
        try {
            fresh = FileChannel.open(newLogPath, CREATE, TRUNCATE_EXISTING, READ, WRITE);
            long freshBytes = writeAll(fresh, bodies);
            fresh.force(true);
            Files.move(newLogPath, logPath, StandardCopyOption.ATOMIC_MOVE);
            renamed = true;
            forceDirectory();
            FileChannel old = log;
            log = fresh;
            fresh = null;
            LOG.info("store log {}: rewrote {} bytes as {}", logPath, logBytes, freshBytes);
            logBytes = freshBytes;
            closeQuietly(old);
        } catch (IOException e) {
            if (renamed) {
                unrecoveredWriteFailure = e;
                LOG.error("store log {}: a rewrite could not make its rename durable; the store refuses writes until"
                        + " reopened", logPath, e);
            } else {
                deleteQuietly(newLogPath);
            }
            throw new UncheckedIOException("store log " + logPath + ": rewrite failed: " + reason(e), e);
        } finally {
            closeQuietly(fresh);
            restoreInterrupt(interrupted || Thread.interrupted());
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(log);
        closeQuietly(lockChannel); // releases the OS lock
        OPEN_DIRECTORIES.remove(directory);
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
            // This JVM holds the lock under another path to the same directory (a bind mount); closing
            // this channel would release that lock too (see OPEN_DIRECTORIES), so it stays open.
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

    private void load(Function<ByteBuffer, String> replay) throws IOException {
        // Left by a crash during creation or a rewrite, before its rename: store.log is the truth.
        Files.deleteIfExists(directory.resolve(NEW_LOG_FILE_NAME));
        if (!Files.exists(logPath)) {
            createEmptyLog();
        }
        log = FileChannel.open(logPath, READ, WRITE);
        try {
            checkHeader();
            replay(replay);
        } catch (IOException | RuntimeException e) {
            closeQuietly(log);
            throw e;
        }
    }

    private void createEmptyLog() throws IOException {
        Path newLogPath = directory.resolve(NEW_LOG_FILE_NAME);
        try (FileChannel fresh = FileChannel.open(newLogPath, CREATE, TRUNCATE_EXISTING, WRITE)) {
            writeFully(fresh, header(), 0);
            fresh.force(true);
        }
        Files.move(newLogPath, logPath, StandardCopyOption.ATOMIC_MOVE);
        forceDirectory();
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
            throw notOurs(String.format("it starts with 0x%08x, not the store log magic 0x%08x (\"VNCS\")", magic, MAGIC));
        }
        if (version != FORMAT_VERSION) {
            throw notOurs("it is in store log format " + version + "; this build reads format " + FORMAT_VERSION);
        }
    }

    private IllegalStateException notOurs(String why) {
        return new IllegalStateException("refusing to open " + logPath + ": " + why
                + ". The file was left untouched; move it away if it does not belong there.");
    }

    private void replay(Function<ByteBuffer, String> apply) throws IOException {
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
            if (length < 1 || length > MAX_BODY_BYTES) {
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
            try {
                problem = apply.apply(ByteBuffer.wrap(body));
            } catch (RuntimeException e) {
                problem = "record does not decode: " + e;
            }
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

    private void undoFailedAppend(long recordStart, IOException failure) {
        try {
            uninterruptibly(() -> {
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

    private static long writeAll(FileChannel channel, Iterable<byte[]> bodies) throws IOException {
        ByteBuffer batch = ByteBuffer.allocate(256 << 10);
        batch.put(header());
        long position = 0;
        for (byte[] body : bodies) {
            ByteBuffer record = frame(body);
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
        uninterruptibly(() -> {
            try (FileChannel channel = FileChannel.open(directory, READ)) {
                channel.force(true);
            }
        });
    }

    private interface IoAction {
        void run() throws IOException;
    }

    /**
     * Runs I/O that an interrupt must not cut short (undoing a failed append, forcing the directory) on a
     * thread of its own, which nothing interrupts, and waits for it; an interrupt of the caller meanwhile
     * is kept for afterwards. Retrying on the caller's thread would not do: a caller interrupted again and
     * again fails every attempt, and a failed undo leaves the log refusing writes from every thread.
     */
    private static void uninterruptibly(IoAction action) throws IOException {
        FutureTask<Void> task = new FutureTask<>(() -> {
            action.run();
            return null;
        });
        Thread.ofVirtual().name("store log I/O").start(task);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    task.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    switch (e.getCause()) {
                        case IOException io -> throw io;
                        case RuntimeException runtime -> throw runtime;
                        case Error error -> throw error;
                        default -> throw new IllegalStateException(e.getCause());
                    }
                }
            }
        } finally {
            restoreInterrupt(interrupted);
        }
    }

    private void checkWritable() {
        if (closed) {
            throw new IllegalStateException("store log " + logPath + " is closed");
        }
        if (unrecoveredWriteFailure != null) {
            throw new IllegalStateException("store in " + directory + " refuses writes after a failure it could not"
                    + " undo (" + reason(unrecoveredWriteFailure) + "); reopen it", unrecoveredWriteFailure);
        }
    }

    // ---- encoding and I/O helpers ----

    private static ByteBuffer header() {
        return ByteBuffer.allocate(HEADER_BYTES).putInt(MAGIC).putInt(FORMAT_VERSION).flip();
    }

    static ByteBuffer frame(byte[] body) {
        if (body.length < 1 || body.length > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("a store record takes 1 to " + MAX_BODY_BYTES + " bytes, not " + body.length);
        }
        ByteBuffer record = ByteBuffer.allocate(RECORD_PREFIX_BYTES + body.length);
        CRC32 crc = new CRC32();
        crc.update(body);
        record.putInt(body.length).putInt((int) crc.getValue()).put(body);
        return record.flip();
    }

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

    static void closeQuietly(AutoCloseable closeable) {
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

    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fileSystem && fileSystem.getReason() != null) {
            return fileSystem.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
