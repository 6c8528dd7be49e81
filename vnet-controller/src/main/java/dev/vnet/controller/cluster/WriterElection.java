/*
 * Which controller node is the writer: the one node that runs the resource graph and takes the API's
 * writes (the others forward them). The writer holds /vnet/writer, put only if absent and bound to the
 * lease of its membership key, so it goes when the node goes: when the node leaves (revoked lease) or
 * dies (expired lease), the key is deleted, every node's watch sees it, and each tries to put it
 * again; the store's compare-and-set lets exactly one succeed. A node that loses its lease (a long
 * pause) loses the writer key with it and steps down when it sees the key change.
 */
package dev.vnet.controller.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.store.Compare;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.Event;
import dev.vnet.store.KeyValue;
import dev.vnet.store.Op;
import dev.vnet.store.Txn;
import dev.vnet.store.Watch;
import dev.vnet.store.WatchListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/** The writer among the controller nodes; the algorithm is described at the top of this file. */
public final class WriterElection implements AutoCloseable {
    public static final String KEY = "/vnet/writer";
    private static final Logger LOG = LoggerFactory.getLogger(WriterElection.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ConfigStore store;
    private final ClusterMembership membership;
    private final BiConsumer<Boolean, Long> onChange;
    private volatile Optional<ClusterMembership.Member> writer = Optional.empty();
    /** The writer key's modification revision when this node won it: what its writes are fenced with. */
    private volatile long wonAtRevision;
    private boolean isWriter;
    private Watch watch;

    private WriterElection(ConfigStore store, ClusterMembership membership, BiConsumer<Boolean, Long> onChange) {
        this.store = store;
        this.membership = membership;
        this.onChange = onChange;
    }

    /**
     * Takes part in the election; {@code onChange} is told (true, the writer key's revision to fence writes
     * with) when this node becomes the writer and (false, 0) when it stops being it (on the store's watch
     * thread, or this one for the first time).
     */
    public static WriterElection start(ConfigStore store, ClusterMembership membership, BiConsumer<Boolean, Long> onChange) {
        WriterElection election = new WriterElection(store, membership, onChange);
        ConfigStore.Range range = store.range(KEY);
        election.watch = store.watch(KEY, range.revision() + 1, new WatchListener() {
            @Override
            public void onEvents(List<Event> events) {
                election.changed();
            }

            @Override
            public void onError(RuntimeException error) {
                LOG.error("node {}: the writer watch ended: {}", membership.self().id(), error.toString());
            }
        });
        election.changed();
        return election;
    }

    /** The writer as last seen, if there is one. */
    public Optional<ClusterMembership.Member> writer() {
        return writer;
    }

    /** The writer key's revision this node won it at (0 when it is not the writer): the fence of its writes. */
    public long wonAtRevision() {
        return wonAtRevision;
    }

    public synchronized boolean isWriter() {
        return isWriter;
    }

    /** Reads the key, runs for it if it is free, and tells the listener if this node's role changed. */
    private synchronized void changed() {
        Optional<KeyValue> current = store.get(KEY);
        if (current.isEmpty()) {
            byte[] self;
            try {
                self = JSON.writeValueAsBytes(membership.self());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            try {
                store.commit(Txn.begin().when(Compare.absent(KEY)).then(Op.put(KEY, self, membership.leaseId())));
            } catch (RuntimeException e) {
                LOG.warn("node {}: running for writer failed: {}", membership.self().id(), e.toString());
            }
            current = store.get(KEY);
        }
        writer = current.flatMap(entry -> {
            try {
                return Optional.of(JSON.readValue(entry.value(), ClusterMembership.Member.class));
            } catch (IOException e) {
                LOG.warn("unreadable writer record: {}", e.getMessage());
                return Optional.empty();
            }
        });
        boolean nowWriter = writer.map(w -> w.id().equals(membership.self().id())).orElse(false);
        wonAtRevision = nowWriter ? current.map(KeyValue::modRevision).orElse(0L) : 0;
        if (nowWriter != isWriter) {
            isWriter = nowWriter;
            LOG.info("node {} {} the writer", membership.self().id(), nowWriter ? "is now" : "is no longer");
            onChange.accept(nowWriter, wonAtRevision);
        }
    }

    /**
     * Stops taking part. The writer key lives by the membership's lease, so closing the membership
     * afterwards (which revokes it) hands the role to another node at once.
     */
    @Override
    public synchronized void close() {
        if (watch != null) {
            watch.close();
        }
        isWriter = false;
    }
}
