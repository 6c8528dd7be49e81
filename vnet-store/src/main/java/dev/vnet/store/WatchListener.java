package dev.vnet.store;

import java.util.List;

/** Receives a watch's changes, one batch at a time, never concurrently for one watch. */
public interface WatchListener {
    /** Changes in revision order; a batch holds whole revisions. */
    void onEvents(List<Event> events);

    /**
     * The watch ended without being closed: {@link CompactedException} if its start revision is no longer
     * remembered, or another failure of the store. No events follow.
     */
    default void onError(RuntimeException error) {
    }
}
