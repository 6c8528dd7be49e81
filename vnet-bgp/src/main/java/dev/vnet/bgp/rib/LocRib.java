package dev.vnet.bgp.rib;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The Loc-RIB (RFC 4271 §3.2): for every destination, the candidate paths from all sources that passed
 * the import filter, and the best of them.
 *
 * <p>Layout: one map entry per destination, whose value is the best path; the other candidates hang off
 * it through {@link Path#next}. A destination with one path (nearly all of them in vnet: one host
 * originates each RD) costs the map entry and nothing else. Each change runs {@link BestPathSelection}
 * over the candidates and reports a change of best path to the listener (which the speaker turns into
 * Adj-RIB-Out work and best-path events).
 */
public final class LocRib {
    private final Map<VpnPrefix, Path> best = new HashMap<>();
    private final LocRibListener listener;
    private Path[] scratch = new Path[8];

    public LocRib(LocRibListener listener) {
        this.listener = listener;
    }

    public int size() {
        return best.size();
    }

    public Path best(VpnPrefix prefix) {
        return best.get(prefix);
    }

    /** The key object already in the table for {@code prefix} (to share it), or {@code prefix} itself. */
    public VpnPrefix canonical(VpnPrefix prefix) {
        Path path = best.get(prefix);
        return path == null ? prefix : path.prefix();
    }

    public void forEachBest(Consumer<Path> action) {
        best.values().forEach(action);
    }

    /** Snapshot of every best path (for a table transfer that must survive changes made meanwhile). */
    public Path[] bestPaths() {
        return best.values().toArray(Path[]::new);
    }

    /** Adds {@code path}, replacing the candidate from the same source if there is one. */
    public void put(Path path) {
        Path head = best.get(path.prefix());
        if (head == null) {
            path.next = null;
            best.put(path.prefix(), path);
            listener.bestPathChanged(path.prefix(), null, path);
            return;
        }
        Path rest = unlink(head, path.source());
        path.next = rest;
        reselect(path.prefix(), head, path);
    }

    /** Removes the candidate from {@code source}, if any. */
    public void remove(VpnPrefix prefix, RouteSource source) {
        Path head = best.get(prefix);
        if (head == null) {
            return;
        }
        Path rest = unlink(head, source);
        if (rest == head) {
            return;
        }
        if (rest == null) {
            best.remove(prefix);
            listener.bestPathChanged(prefix, head, null);
            return;
        }
        reselect(prefix, head, rest);
    }

    /** The chain from {@code head} without the path from {@code source} (the same chain if there was none). */
    private static Path unlink(Path head, RouteSource source) {
        if (head.source() == source) {
            return head.next;
        }
        for (Path previous = head, path = head.next; path != null; previous = path, path = path.next) {
            if (path.source() == source) {
                previous.next = path.next;
                return head;
            }
        }
        return head;
    }

    /** Picks the best of the chain starting at {@code chain}, puts it first, reports if it changed. */
    private void reselect(VpnPrefix prefix, Path oldBest, Path chain) {
        int count = 0;
        for (Path path = chain; path != null; path = path.next) {
            if (count == scratch.length) {
                scratch = java.util.Arrays.copyOf(scratch, count * 2);
            }
            scratch[count++] = path;
        }
        Path winner = count == 1 ? chain : BestPathSelection.select(scratch, count);
        Path rebuilt = winner;
        Path tail = winner;
        for (int i = 0; i < count; i++) {
            if (scratch[i] != winner) {
                tail.next = scratch[i];
                tail = scratch[i];
            }
            scratch[i] = null;
        }
        tail.next = null;
        best.put(prefix, rebuilt);
        if (winner != oldBest) {
            listener.bestPathChanged(prefix, oldBest, winner);
        }
    }
}
