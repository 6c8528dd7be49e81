package dev.vnet.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The delivering half of a watch, for every engine: whoever produces changes (the store's writer, or
 * jetcd's event loop) queues batches here, and one virtual thread per watch hands them to the
 * {@link WatchListener} in order, never concurrently, so a slow listener holds up neither writes nor
 * other watches (the queue grows instead). A listener that throws is logged and the watch goes on.
 */
final class WatchDelivery {
    private static final Logger LOG = LoggerFactory.getLogger(WatchDelivery.class);
    private static final List<Event> END = List.of();

    private final String name;
    private final WatchListener listener;
    private final LinkedBlockingQueue<List<Event>> queue = new LinkedBlockingQueue<>();
    private final Thread deliverer;
    private volatile RuntimeException failure;
    private volatile boolean stopped;

    WatchDelivery(String name, WatchListener listener) {
        this.name = name;
        this.listener = listener;
        this.deliverer = Thread.ofVirtual().name(name).unstarted(this::deliver);
    }

    void start() {
        deliverer.start();
    }

    /** Queues a batch unless the watch was stopped. */
    void offer(List<Event> batch) {
        if (!stopped) {
            queue.add(batch);
        }
    }

    /** Ends the watch with an error for the listener, after the batches already queued. */
    void fail(RuntimeException error) {
        failure = error;
        queue.add(END);
    }

    /** Ends the watch: nothing more reaches the listener (a batch being delivered finishes). */
    void stop() {
        stopped = true;
        queue.add(END);
    }

    boolean stopped() {
        return stopped;
    }

    private void deliver() {
        try {
            while (!stopped) {
                List<Event> batch = queue.take();
                if (batch == END) {
                    if (failure != null && !stopped) {
                        listener.onError(failure);
                    }
                    return;
                }
                if (!stopped) {
                    try {
                        listener.onEvents(batch);
                    } catch (RuntimeException e) {
                        LOG.warn("watch listener of {} failed; the watch goes on", name, e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
