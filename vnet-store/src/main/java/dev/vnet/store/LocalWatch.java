package dev.vnet.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * A watch of a local engine: the store thread filters and queues changes, a virtual thread of the
 * watch's own delivers them, so a slow listener never holds up writes (the queue grows instead).
 */
final class LocalWatch implements Watch {
    private static final Logger LOG = LoggerFactory.getLogger(LocalWatch.class);
    private static final List<Event> END = List.of();

    private final String prefix;
    private final WatchListener listener;
    private final Consumer<LocalWatch> onClose;
    private final LinkedBlockingQueue<List<Event>> queue = new LinkedBlockingQueue<>();
    private volatile RuntimeException failure;
    private volatile boolean closed;
    private final Thread deliverer;

    LocalWatch(String prefix, WatchListener listener, Consumer<LocalWatch> onClose) {
        this.prefix = prefix;
        this.listener = listener;
        this.onClose = onClose;
        this.deliverer = Thread.ofVirtual().name("watch " + prefix).unstarted(this::deliver);
    }

    void start() {
        deliverer.start();
    }

    /** Queues the changes under this watch's prefix (called with the store serialized). */
    void offer(List<Event> events) {
        List<Event> mine = null;
        for (Event event : events) {
            if (event.key().startsWith(prefix)) {
                if (mine == null) {
                    mine = new ArrayList<>();
                }
                mine.add(event);
            }
        }
        if (mine != null && !closed) {
            queue.add(mine);
        }
    }

    void fail(RuntimeException error) {
        failure = error;
        queue.add(END);
    }

    private void deliver() {
        try {
            while (!closed) {
                List<Event> batch = queue.take();
                if (batch == END) {
                    if (failure != null && !closed) {
                        listener.onError(failure);
                    }
                    return;
                }
                if (!closed) {
                    try {
                        listener.onEvents(batch);
                    } catch (RuntimeException e) {
                        LOG.warn("watch listener on {} failed; the watch goes on", prefix, e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            queue.add(END);
            onClose.accept(this);
        }
    }
}
