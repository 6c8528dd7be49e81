package dev.vnet.store;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A watch of a local engine: the store, serialized, offers every change; this keeps those under its
 * prefix and queues them for its {@link WatchDelivery}.
 */
final class LocalWatch implements Watch {
    private final String prefix;
    private final Consumer<LocalWatch> onClose;
    private final WatchDelivery delivery;

    LocalWatch(String prefix, WatchListener listener, Consumer<LocalWatch> onClose) {
        this.prefix = prefix;
        this.onClose = onClose;
        this.delivery = new WatchDelivery("watch " + prefix, listener);
    }

    void start() {
        delivery.start();
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
        if (mine != null) {
            delivery.offer(mine);
        }
    }

    void fail(RuntimeException error) {
        delivery.fail(error);
    }

    @Override
    public void close() {
        if (!delivery.stopped()) {
            delivery.stop();
            onClose.accept(this);
        }
    }
}
