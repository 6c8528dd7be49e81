package dev.vnet.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The store on an etcd cluster (v3 API, tested against etcd 3.4), through jetcd. {@code vnet} nodes that
 * share one cluster share one store; the cluster keeps it available and durable while a majority of its
 * members are up.
 *
 * <p>How the interface maps onto etcd:
 * <ul>
 *   <li>Keys are UTF-8 bytes, under an optional namespace (a key prefix added and stripped by jetcd) so
 *   that several stores can share a cluster. Reads are linearizable (etcd's default).</li>
 *   <li>{@link #revision()} is the header revision of a count-only read; {@link #range} is one prefix
 *   read (sorted by key, as etcd returns it) and its header revision.</li>
 *   <li>{@link #commit} is one etcd transaction: each {@link Compare} becomes a {@code Cmp} on the same
 *   target and result, {@link Op.Put} a put (with its lease), {@link Op.Delete} a single-key delete,
 *   {@link Op.DeletePrefix} a prefix delete, {@link Op.Get} a get; the results come back per operation in
 *   the branch's order, and {@link TxnResult#revision()} is the response's header revision (the
 *   transaction's own if it wrote, else the current one). A branch that writes a key twice is refused
 *   here, before anything is sent, with {@link IllegalArgumentException} (etcd would answer "duplicate
 *   key given in txn request"); a put with an unknown lease throws {@link LeaseNotFoundException}.</li>
 *   <li>{@link #watch} is one etcd watch on the prefix from the given revision; from revision 0 it
 *   starts after the revision read when the call is made, so that a write that follows the call is
 *   seen. Each etcd watch response is one batch (it holds whole revisions), delivered by a virtual thread
 *   of the watch's own. jetcd re-creates a watch whose connection broke from the revision after the last
 *   one delivered, so a member going away loses nothing. A start revision below etcd's compaction ends
 *   the watch with {@link CompactedException}.</li>
 *   <li>Leases are etcd leases: granted with the time to live in whole seconds (rounded up), kept alive
 *   with one keep-alive request, revoked with their keys (the deletes are ordinary watch events).</li>
 * </ul>
 *
 * <p>Differences from the local engines:
 * <ul>
 *   <li>A fresh etcd cluster is at revision 1, not 0.</li>
 *   <li>etcd grants at least its minimum lease TTL (1.5 × the election timeout, rounded up: 2 s with
 *   etcd's defaults) and may return a longer TTL than asked for; {@link Lease#ttl()} is what etcd
 *   granted. After a leader change every lease gets its whole TTL again.</li>
 *   <li>Compaction is the cluster's (its {@code --auto-compaction-*} settings or an explicit compact), not
 *   a bounded in-memory history. {@link CompactedException#compactRevision()} is etcd's compact revision
 *   minus one: etcd still delivers changes from its compact revision on.</li>
 *   <li>The local engines also refuse a {@link Op.DeletePrefix} that covers a key the same branch deletes
 *   by itself; etcd allows overlapping deletes, and so does this engine (a put under a prefix that the
 *   branch deletes is refused, as etcd does).</li>
 *   <li>Every call waits at most the timeout given to {@link #connect(List, String, Duration)} (default
 *   10 s) and then throws {@link IllegalStateException} naming the endpoints, as it does when the
 *   cluster answers with an error (for example without a quorum, or etcd's "request timed out" for a
 *   write sent while the leader had just died). A write that failed that way may or may not have
 *   happened.</li>
 * </ul>
 */
public final class EtcdConfigStore implements ConfigStore {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdConfigStore.class);
    static final long DEFAULT_TIMEOUT_SECONDS = 10;
    private static final ByteSequence ZERO = ByteSequence.from(new byte[] {0});
    private static final long MAX_TTL_SECONDS = 365L * 24 * 3600;

    private final Client client;
    private final KV kv;
    private final List<String> endpoints;
    private final String namespace;
    private final Duration timeout;
    private final Set<EtcdWatch> watches = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private EtcdConfigStore(Client client, List<String> endpoints, String namespace, Duration timeout) {
        this.client = client;
        this.kv = client.getKVClient();
        this.endpoints = endpoints;
        this.namespace = namespace;
        this.timeout = timeout;
    }

    /** {@link #connect(List, String, Duration)} without a namespace and with the default timeout. */
    public static EtcdConfigStore connect(List<String> endpoints) {
        return connect(endpoints, "", Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS));
    }

    /**
     * Connects to the cluster and checks that it answers.
     *
     * @param endpoints client URLs of the members, e.g. {@code http://127.0.0.1:2379}
     * @param namespace a prefix for every key of this store ("" for none), hidden from its users
     * @param timeout   how long each call (this one's check included) may wait for the cluster
     * @throws IllegalArgumentException if an endpoint is not an {@code http://host:port} URL
     * @throws IllegalStateException    naming the endpoints if the cluster did not answer in time
     */
    public static EtcdConfigStore connect(List<String> endpoints, String namespace, Duration timeout) {
        if (endpoints == null || endpoints.isEmpty()) {
            throw new IllegalArgumentException("an etcd store needs at least one endpoint");
        }
        if (namespace == null) {
            throw new IllegalArgumentException("namespace is null (\"\" means none)");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout must be positive, not " + timeout);
        }
        List<String> copy = List.copyOf(endpoints);
        List<URI> uris = new ArrayList<>();
        for (String endpoint : copy) {
            uris.add(endpointUri(endpoint));
        }
        Client client = Client.builder()
                .endpoints(uris.toArray(URI[]::new))
                .namespace(namespace.isEmpty() ? ByteSequence.EMPTY : ByteSequence.from(utf8(namespace)))
                .connectTimeout(timeout)
                .retryMaxDuration(timeout)
                .build();
        EtcdConfigStore store = new EtcdConfigStore(client, copy, namespace, timeout);
        try {
            store.revision();
        } catch (EtcdCallException e) {
            store.close();
            throw new IllegalStateException("cannot connect to the etcd cluster at " + copy + ": " + e.detail(), e);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    private static URI endpointUri(String endpoint) {
        try {
            URI uri = new URI(endpoint);
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0) {
                throw new IllegalArgumentException("an etcd endpoint is an http://host:port URL, not " + endpoint);
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("an etcd endpoint is an http://host:port URL, not " + endpoint, e);
        }
    }

    /** The client URLs this store talks to. */
    public List<String> endpoints() {
        return endpoints;
    }

    @Override
    public long revision() {
        checkOpen();
        GetResponse response = await(() -> kv.get(ZERO, GetOption.builder().withCountOnly(true).build()),
                "reading the revision");
        return response.getHeader().getRevision();
    }

    @Override
    public Optional<KeyValue> get(String key) {
        checkOpen();
        ByteSequence k = key(key);
        GetResponse response = await(() -> kv.get(k), "get " + key);
        return response.getKvs().isEmpty() ? Optional.empty() : Optional.of(entry(response.getKvs().getFirst()));
    }

    @Override
    public Range range(String prefix) {
        checkOpen();
        if (prefix == null) {
            throw new IllegalArgumentException("range prefix is null (the empty prefix means every entry)");
        }
        GetResponse response = await(() -> kv.get(rangeKey(prefix), rangeOption(prefix)), "range " + prefix);
        List<KeyValue> entries = new ArrayList<>(response.getKvs().size());
        for (io.etcd.jetcd.KeyValue kv : response.getKvs()) {
            entries.add(entry(kv));
        }
        return new Range(response.getHeader().getRevision(), entries);
    }

    /** The key a prefix read or watch starts at: the prefix, or the smallest key for every key. */
    private static ByteSequence rangeKey(String prefix) {
        return prefix.isEmpty() ? ZERO : ByteSequence.from(utf8(prefix));
    }

    private static GetOption rangeOption(String prefix) {
        GetOption.Builder option = GetOption.builder()
                .withSortField(GetOption.SortTarget.KEY).withSortOrder(GetOption.SortOrder.ASCEND);
        // "\0" as the range end means "every key from the start key on" (within the namespace).
        return (prefix.isEmpty() ? option.withRange(ZERO) : option.isPrefix(true)).build();
    }

    @Override
    public TxnResult commit(Txn txn) {
        checkOpen();
        List<Compare> compares = txn.compares();
        List<Op> success = txn.success();
        List<Op> failure = txn.failure();
        checkWritesOnce(success);
        checkWritesOnce(failure);
        Cmp[] cmps = new Cmp[compares.size()];
        for (int i = 0; i < cmps.length; i++) {
            cmps[i] = cmp(compares.get(i));
        }
        io.etcd.jetcd.op.Op[] then = ops(success);
        io.etcd.jetcd.op.Op[] orElse = ops(failure);
        TxnResponse response;
        try {
            response = await(() -> kv.txn().If(cmps).Then(then).Else(orElse).commit(), "transaction");
        } catch (EtcdCallException e) {
            if (e.leaseNotFound()) {
                throw new LeaseNotFoundException(firstLease(success, failure));
            }
            throw e;
        }
        List<Op> ran = response.isSucceeded() ? success : failure;
        List<TxnResult.OpResult> results = new ArrayList<>(ran.size());
        int gets = 0;
        int deletes = 0;
        for (Op op : ran) {
            switch (op) {
                case Op.Get _ -> {
                    List<io.etcd.jetcd.KeyValue> kvs = response.getGetResponses().get(gets++).getKvs();
                    results.add(new TxnResult.OpResult(
                            kvs.isEmpty() ? Optional.empty() : Optional.of(entry(kvs.getFirst())), 0));
                }
                case Op.Delete _ ->
                        results.add(new TxnResult.OpResult(Optional.empty(),
                                response.getDeleteResponses().get(deletes++).getDeleted()));
                case Op.DeletePrefix _ ->
                        results.add(new TxnResult.OpResult(Optional.empty(),
                                response.getDeleteResponses().get(deletes++).getDeleted()));
                case Op.Put _ -> results.add(TxnResult.OpResult.NONE);
            }
        }
        return new TxnResult(response.isSucceeded(), response.getHeader().getRevision(), results);
    }

    /**
     * etcd's rule, checked before sending: within a branch a key is put at most once, not both put and
     * deleted, and not put under a prefix that the branch deletes; a key is also deleted at most once by
     * itself (as the local engines require).
     */
    private static void checkWritesOnce(List<Op> ops) {
        Set<String> puts = new HashSet<>();
        Set<String> deletes = new HashSet<>();
        List<String> deletedPrefixes = new ArrayList<>();
        for (Op op : ops) {
            switch (op) {
                case Op.Put put -> {
                    if (!puts.add(put.key()) || deletes.contains(put.key())) {
                        throw writtenTwice(put.key());
                    }
                }
                case Op.Delete delete -> {
                    if (!deletes.add(delete.key()) || puts.contains(delete.key())) {
                        throw writtenTwice(delete.key());
                    }
                }
                case Op.DeletePrefix deletePrefix -> deletedPrefixes.add(deletePrefix.prefix());
                case Op.Get _ -> {
                }
            }
        }
        for (String prefix : deletedPrefixes) {
            for (String put : puts) {
                if (put.startsWith(prefix)) {
                    throw writtenTwice(put);
                }
            }
        }
    }

    private static IllegalArgumentException writtenTwice(String key) {
        return new IllegalArgumentException("a transaction branch writes " + key + " more than once");
    }

    private static long firstLease(List<Op> success, List<Op> failure) {
        for (List<Op> ops : List.of(success, failure)) {
            for (Op op : ops) {
                if (op instanceof Op.Put put && put.lease() != 0) {
                    return put.lease();
                }
            }
        }
        return 0;
    }

    private static Cmp cmp(Compare compare) {
        ByteSequence key = key(compare.key());
        Cmp.Op result = switch (compare.result()) {
            case EQUAL -> Cmp.Op.EQUAL;
            case NOT_EQUAL -> Cmp.Op.NOT_EQUAL;
            case GREATER -> Cmp.Op.GREATER;
            case LESS -> Cmp.Op.LESS;
        };
        CmpTarget<?> target = switch (compare.target()) {
            case VERSION -> CmpTarget.version(compare.number());
            case CREATE_REVISION -> CmpTarget.createRevision(compare.number());
            case MOD_REVISION -> CmpTarget.modRevision(compare.number());
            case VALUE -> CmpTarget.value(ByteSequence.from(compare.value()));
        };
        return new Cmp(key, result, target);
    }

    private static io.etcd.jetcd.op.Op[] ops(List<Op> ops) {
        io.etcd.jetcd.op.Op[] mapped = new io.etcd.jetcd.op.Op[ops.size()];
        for (int i = 0; i < mapped.length; i++) {
            mapped[i] = switch (ops.get(i)) {
                case Op.Put put -> io.etcd.jetcd.op.Op.put(key(put.key()), ByteSequence.from(put.value()),
                        PutOption.builder().withLeaseId(put.lease()).build());
                case Op.Delete delete -> io.etcd.jetcd.op.Op.delete(key(delete.key()), DeleteOption.DEFAULT);
                case Op.DeletePrefix deletePrefix -> io.etcd.jetcd.op.Op.delete(key(deletePrefix.prefix()),
                        DeleteOption.builder().isPrefix(true).build());
                case Op.Get get -> io.etcd.jetcd.op.Op.get(key(get.key()), GetOption.DEFAULT);
            };
        }
        return mapped;
    }

    @Override
    public Watch watch(String prefix, long fromRevision, WatchListener listener) {
        if (prefix == null || listener == null || fromRevision < 0) {
            throw new IllegalArgumentException("a watch needs a prefix, a listener and a revision >= 0");
        }
        checkOpen();
        long start = fromRevision > 0 ? fromRevision : revision() + 1;
        WatchOption.Builder option = WatchOption.builder().withRevision(start);
        option = prefix.isEmpty() ? option.withRange(ZERO) : option.isPrefix(true);
        EtcdWatch watch = new EtcdWatch(prefix, start, listener);
        watches.add(watch);
        try {
            watch.start(client.getWatchClient().watch(rangeKey(prefix), option.build(), watch));
        } catch (RuntimeException e) {
            watches.remove(watch);
            throw new IllegalStateException("etcd at " + endpoints + ": watch " + prefix + " failed: " + e.getMessage(), e);
        }
        return watch;
    }

    @Override
    public Lease grantLease(Duration ttl) {
        checkOpen();
        if (ttl == null || ttl.isNegative() || ttl.isZero() || ttl.toSeconds() > MAX_TTL_SECONDS) {
            throw new IllegalArgumentException("a lease's time to live must be positive and at most a year, not " + ttl);
        }
        long askedSeconds = ttl.toSeconds() + (ttl.toNanosPart() != 0 ? 1 : 0); // whole seconds, rounded up
        io.etcd.jetcd.lease.LeaseGrantResponse response =
                await(() -> client.getLeaseClient().grant(askedSeconds), "granting a lease");
        return new Lease(response.getID(), Duration.ofSeconds(response.getTTL()));
    }

    @Override
    public void keepAlive(long leaseId) {
        checkOpen();
        try {
            await(() -> client.getLeaseClient().keepAliveOnce(leaseId), "keeping lease " + Long.toHexString(leaseId) + " alive");
        } catch (EtcdCallException e) {
            if (e.leaseNotFound()) {
                throw new LeaseNotFoundException(leaseId);
            }
            throw e;
        }
    }

    @Override
    public void revokeLease(long leaseId) {
        checkOpen();
        try {
            await(() -> client.getLeaseClient().revoke(leaseId), "revoking lease " + Long.toHexString(leaseId));
        } catch (EtcdCallException e) {
            if (!e.leaseNotFound()) {
                throw e;
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (EtcdWatch watch : watches) {
            watch.close();
        }
        watches.clear();
        try {
            client.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the etcd client of {} failed", endpoints, e);
        }
    }

    @Override
    public String toString() {
        return "EtcdConfigStore" + endpoints + (namespace.isEmpty() ? "" : " namespace " + namespace);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /** A failed call: the cluster's answer or no answer in time; knows etcd's "lease not found". */
    static final class EtcdCallException extends IllegalStateException {
        private final String detail;
        private final boolean leaseNotFound;

        EtcdCallException(List<String> endpoints, String detail, Throwable cause, boolean leaseNotFound) {
            super("etcd at " + endpoints + ": " + detail, cause);
            this.detail = detail;
            this.leaseNotFound = leaseNotFound;
        }

        /** The message without the endpoints. */
        String detail() {
            return detail;
        }

        boolean leaseNotFound() {
            return leaseNotFound;
        }
    }

    /** Runs one call and waits for its answer at most the timeout. */
    private <T> T await(Supplier<CompletableFuture<T>> call, String what) {
        CompletableFuture<T> future;
        try {
            future = call.get();
        } catch (RuntimeException e) {
            throw failure(what, e);
        }
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new EtcdCallException(endpoints, what + " got no answer within " + timeout.toMillis() + " ms", e, false);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new EtcdCallException(endpoints, what + " was interrupted", e, false);
        } catch (ExecutionException e) {
            throw failure(what, e.getCause() != null ? e.getCause() : e);
        }
    }

    private RuntimeException failure(String what, Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        if (message.contains("duplicate key given in txn request")) {
            return new IllegalArgumentException("a transaction branch writes a key more than once (etcd: " + message + ")",
                    cause);
        }
        if (cause instanceof EtcdException etcd && etcd.getErrorCode() == ErrorCode.INVALID_ARGUMENT) {
            // etcd refuses the request itself: too many operations, too large, ...
            return new IllegalArgumentException("etcd at " + endpoints + " refused " + what + ": " + message, cause);
        }
        // etcd answers NOT_FOUND only for leases: "etcdserver: requested lease not found".
        boolean leaseNotFound = message.contains("requested lease not found")
                || (cause instanceof EtcdException etcd && etcd.getErrorCode() == ErrorCode.NOT_FOUND)
                || Status.fromThrowable(cause).getCode() == Status.Code.NOT_FOUND;
        return new EtcdCallException(endpoints, what + " failed: " + message, cause, leaseNotFound);
    }

    private static ByteSequence key(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a store key must be a non-empty string");
        }
        return ByteSequence.from(utf8(key));
    }

    private static byte[] utf8(String text) {
        try {
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("store key is not valid Unicode (an unpaired surrogate): " + text, e);
        }
    }

    private static KeyValue entry(io.etcd.jetcd.KeyValue kv) {
        return new KeyValue(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().getBytes(),
                kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(), kv.getLease());
    }

    /**
     * One watch: jetcd's listener (called on its event loop) queues each response's events for the
     * watch's {@link WatchDelivery}, which hands them to the {@link WatchListener} in order.
     */
    private final class EtcdWatch implements Watch, io.etcd.jetcd.Watch.Listener {
        private final String prefix;
        private final long start;
        private final WatchDelivery delivery;
        private volatile io.etcd.jetcd.Watch.Watcher watcher;
        private volatile Throwable lastError;
        private long nextRevision; // on jetcd's thread: events below it were delivered already

        EtcdWatch(String prefix, long start, WatchListener listener) {
            this.prefix = prefix;
            this.start = start;
            this.nextRevision = start;
            this.delivery = new WatchDelivery("etcd watch " + prefix, listener);
        }

        void start(io.etcd.jetcd.Watch.Watcher watcher) {
            this.watcher = watcher;
            delivery.start();
            if (delivery.stopped()) {
                watcher.close();
            }
        }

        @Override
        public void onNext(WatchResponse response) {
            List<Event> batch = new ArrayList<>(response.getEvents().size());
            long last = nextRevision - 1;
            for (WatchEvent event : response.getEvents()) {
                io.etcd.jetcd.KeyValue kv = event.getKeyValue();
                if (kv.getModRevision() < nextRevision) {
                    continue; // a resumed watch repeating what was delivered (jetcd resumes after it)
                }
                String key = kv.getKey().toString(StandardCharsets.UTF_8);
                switch (event.getEventType()) {
                    case PUT -> batch.add(new Event(Event.Type.PUT, entry(kv)));
                    case DELETE -> batch.add(new Event(Event.Type.DELETE,
                            new KeyValue(key, new byte[0], 0, kv.getModRevision(), 0, 0)));
                    default -> LOG.warn("etcd watch {} skips an event of unknown type {}", prefix, event.getEventType());
                }
                last = Math.max(last, kv.getModRevision());
            }
            nextRevision = last + 1;
            lastError = null;
            if (!batch.isEmpty()) {
                delivery.offer(batch);
            }
        }

        @Override
        public void onError(Throwable error) {
            // jetcd reports every error here; it re-creates the watch after those it can recover from and
            // calls onCompleted after those it cannot.
            lastError = error;
            LOG.debug("etcd watch {}: {}", prefix, error.toString());
        }

        @Override
        public void onCompleted() {
            if (delivery.stopped()) {
                return;
            }
            Throwable error = lastError;
            RuntimeException mapped;
            if (error instanceof io.etcd.jetcd.common.exception.CompactedException compacted) {
                mapped = new CompactedException(start, compacted.getCompactedRevision() - 1);
            } else {
                mapped = new IllegalStateException("etcd at " + endpoints + " ended the watch of " + prefix
                        + (error != null ? ": " + error.getMessage() : ""), error);
            }
            delivery.fail(mapped);
            io.etcd.jetcd.Watch.Watcher current = watcher;
            if (current != null) {
                current.close();
            }
            watches.remove(this);
        }

        @Override
        public void close() {
            if (delivery.stopped()) {
                return;
            }
            delivery.stop();
            io.etcd.jetcd.Watch.Watcher current = watcher;
            if (current != null) {
                try {
                    current.close();
                } catch (RuntimeException e) {
                    LOG.debug("closing etcd watch {} failed", prefix, e);
                }
            }
            watches.remove(this);
        }
    }
}
