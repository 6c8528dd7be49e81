package dev.vnet.store;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The store for one machine: a {@link RecordLog} in a directory, replayed into memory on open. The
 * default engine; {@code vnet controller --store DIR} uses it.
 *
 * <p>Each write is one log record, appended and forced before it is applied and acknowledged (see
 * {@link RecordLog} for the crash reasoning). Records hold a write's computed effects (entries with
 * their revisions and versions, deleted keys, granted and ended leases), so replay rebuilds the exact
 * state and, for the changes since the last compaction, the watch history: a watcher can resume from
 * a revision across a restart as long as the log still holds it. When the log has grown past
 * {@value #COMPACTION_MIN_LOG_BYTES} bytes and twice what the live state needs, it is rewritten as a
 * snapshot (atomically), and history before that point is gone ({@link CompactedException}).
 *
 * <p>Record bodies (big-endian; strings are UTF-8 with an int32 length):
 * <pre>
 *   1 commit:          revision i64, puts i32 × (key, value bytes, create i64, version i64, lease i64),
 *                      deletes i32 × key, grants i32 × (lease id i64, ttl ms i64), revokes i32 × lease id i64
 *   2 snapshot head:   revision i64, last lease id i64
 *   3 snapshot lease:  lease id i64, ttl ms i64
 *   4 snapshot entry:  key, value bytes, create i64, mod i64, version i64, lease i64
 * </pre>
 * Writes are serialized and each waits for its own fsync, so write throughput is bounded by the
 * disk's flush latency.
 */
public final class EmbeddedConfigStore extends LocalConfigStore {
    static final long COMPACTION_MIN_LOG_BYTES = 4L << 20;
    private static final byte COMMIT = 1;
    private static final byte SNAPSHOT_HEAD = 2;
    private static final byte SNAPSHOT_LEASE = 3;
    private static final byte SNAPSHOT_ENTRY = 4;

    private final RecordLog log;
    private long compactionCheckAtBytes = COMPACTION_MIN_LOG_BYTES;

    private EmbeddedConfigStore(Path directory, int historyLimit) {
        super(historyLimit);
        long now = System.nanoTime();
        this.log = RecordLog.open(directory, body -> replay(body, now));
        startLeaseReaper();
    }

    /**
     * Opens (creating if needed) the store in {@code directory}.
     *
     * @throws IllegalStateException naming the directory and the reason if it cannot be opened (in use by
     *     another process, not writable, not a store log)
     */
    public static EmbeddedConfigStore open(Path directory) {
        return new EmbeddedConfigStore(directory, DEFAULT_HISTORY);
    }

    /** {@link #open(Path)} with a smaller watch history (for tests of compaction). */
    static EmbeddedConfigStore open(Path directory, int historyLimit) {
        return new EmbeddedConfigStore(directory, historyLimit);
    }

    @Override
    protected void persist(StoreState.Commit commit) {
        log.append(encodeCommit(commit));
    }

    @Override
    protected void afterApply() {
        if (log.bytes() < compactionCheckAtBytes) {
            return;
        }
        List<byte[]> snapshot = snapshot();
        long liveBytes = snapshot.stream().mapToLong(body -> body.length + RecordLog.RECORD_PREFIX_BYTES).sum();
        if (log.bytes() > 2 * liveBytes) {
            try {
                log.rewrite(snapshot);
            } catch (UncheckedIOException e) {
                // The old log is intact (or the log refuses writes, which the next write reports).
            }
        }
        compactionCheckAtBytes = Math.max(COMPACTION_MIN_LOG_BYTES, 2 * log.bytes());
    }

    @Override
    protected void closeEngine() {
        log.close();
    }

    @Override
    public String toString() {
        return "EmbeddedConfigStore[" + log.directory() + "]";
    }

    // ---- records ----

    private List<byte[]> snapshot() {
        List<byte[]> bodies = new ArrayList<>();
        bodies.add(record(SNAPSHOT_HEAD, out -> {
            out.writeLong(state.revision());
            out.writeLong(state.lastLeaseId());
        }));
        for (StoreState.LeaseState lease : state.leases()) {
            bodies.add(record(SNAPSHOT_LEASE, out -> {
                out.writeLong(lease.lease.id());
                out.writeLong(lease.lease.ttl().toMillis());
            }));
        }
        for (KeyValue entry : state.entries()) {
            bodies.add(record(SNAPSHOT_ENTRY, out -> {
                writeString(out, entry.key());
                writeBytes(out, entry.value());
                out.writeLong(entry.createRevision());
                out.writeLong(entry.modRevision());
                out.writeLong(entry.version());
                out.writeLong(entry.lease());
            }));
        }
        return bodies;
    }

    private static byte[] encodeCommit(StoreState.Commit commit) {
        return record(COMMIT, out -> {
            out.writeLong(commit.revision());
            out.writeInt(commit.puts().size());
            for (KeyValue entry : commit.puts()) {
                writeString(out, entry.key());
                writeBytes(out, entry.value());
                out.writeLong(entry.createRevision());
                out.writeLong(entry.version());
                out.writeLong(entry.lease());
            }
            out.writeInt(commit.deletes().size());
            for (String key : commit.deletes()) {
                writeString(out, key);
            }
            out.writeInt(commit.granted().size());
            for (Lease lease : commit.granted()) {
                out.writeLong(lease.id());
                out.writeLong(lease.ttl().toMillis());
            }
            out.writeInt(commit.revoked().size());
            for (long id : commit.revoked()) {
                out.writeLong(id);
            }
        });
    }

    /**
     * Decodes the whole record before applying any of it: a record that replay rejects is cut off the
     * log, so none of it may reach the state.
     *
     * @return null once applied, or why the record cannot be
     */
    private String replay(ByteBuffer body, long nowNanos) {
        byte kind = body.get();
        Runnable apply;
        switch (kind) {
            case COMMIT -> {
                long revision = body.getLong();
                if (revision < state.revision()) {
                    return "commit at revision " + revision + " after revision " + state.revision();
                }
                List<KeyValue> puts = new ArrayList<>();
                for (int i = count(body); i > 0; i--) {
                    String key = readString(body);
                    byte[] value = readBytes(body);
                    puts.add(new KeyValue(key, value, body.getLong(), revision, body.getLong(), body.getLong()));
                }
                List<String> deletes = new ArrayList<>();
                for (int i = count(body); i > 0; i--) {
                    deletes.add(readString(body));
                }
                List<Lease> granted = new ArrayList<>();
                for (int i = count(body); i > 0; i--) {
                    granted.add(new Lease(body.getLong(), Duration.ofMillis(body.getLong())));
                }
                List<Long> revoked = new ArrayList<>();
                for (int i = count(body); i > 0; i--) {
                    revoked.add(body.getLong());
                }
                StoreState.Commit commit = new StoreState.Commit(revision, puts, deletes, granted, revoked);
                apply = () -> state.apply(commit, nowNanos);
            }
            case SNAPSHOT_HEAD -> {
                long revision = body.getLong();
                long lastLeaseId = body.getLong();
                apply = () -> state.restoreRevision(revision, lastLeaseId);
            }
            case SNAPSHOT_LEASE -> {
                Lease lease = new Lease(body.getLong(), Duration.ofMillis(body.getLong()));
                apply = () -> state.restoreLease(lease, nowNanos);
            }
            case SNAPSHOT_ENTRY -> {
                String key = readString(body);
                byte[] value = readBytes(body);
                KeyValue entry = new KeyValue(key, value, body.getLong(), body.getLong(), body.getLong(), body.getLong());
                apply = () -> state.restore(entry);
            }
            default -> {
                return "unknown record kind " + kind;
            }
        }
        if (body.hasRemaining()) {
            return body.remaining() + " bytes left over in a record of kind " + kind;
        }
        apply.run();
        return null;
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] record(byte kind, Writer writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(kind);
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        byte[] body = bytes.toByteArray();
        if (body.length > RecordLog.MAX_BODY_BYTES) {
            throw new IllegalArgumentException("a write of " + body.length + " bytes is over the store's limit of "
                    + RecordLog.MAX_BODY_BYTES);
        }
        return body;
    }

    private static void writeString(DataOutputStream out, String text) throws IOException {
        try {
            // Strict: String.getBytes would turn an unpaired surrogate into '?', so the key read back after
            // a restart would not be the key that was written.
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(text));
            out.writeInt(encoded.remaining());
            out.write(encoded.array(), encoded.arrayOffset() + encoded.position(), encoded.remaining());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("store key is not valid Unicode (an unpaired surrogate): " + text, e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static int count(ByteBuffer body) {
        int count = body.getInt();
        if (count < 0 || count > body.remaining()) {
            throw new IllegalArgumentException("impossible count " + count);
        }
        return count;
    }

    private static byte[] readBytes(ByteBuffer body) {
        byte[] bytes = new byte[count(body)];
        body.get(bytes);
        return bytes;
    }

    private static String readString(ByteBuffer body) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(readBytes(body))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a key is not UTF-8");
        }
    }
}
