package dev.vnet.controller.graph;

import java.util.ArrayDeque;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A node's message handler task (seed 004): messages sent to one node run one at a time, in the order
 * they were sent, each to completion before the next starts. Different nodes' messages run in
 * parallel. Nothing runs while a node has no messages: its queue is drained by one virtual thread at a
 * time, started when the queue turns non-empty (the serial-executor pattern).
 *
 * <p>Deadlock rule: a task may wait for the reply of a task further down the ownership tree (or of a
 * host, which never waits on anyone), never for one above it; orchestration that spans owners (for
 * example a forced delete of a host with VMs) runs outside the tasks.
 */
final class NodeTask {
    private final Executor threads;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean draining;

    NodeTask(Executor threads) {
        this.threads = threads;
    }

    /** Queues a message; the future completes with its handler's result or exception. */
    <T> CompletableFuture<T> send(Callable<T> handler) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        Runnable message = () -> {
            try {
                reply.complete(handler.call());
            } catch (Throwable t) {
                reply.completeExceptionally(t);
            }
        };
        boolean start;
        synchronized (queue) {
            queue.add(message);
            start = !draining;
            draining = true;
        }
        if (start) {
            threads.execute(this::drain);
        }
        return reply;
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (queue) {
                next = queue.poll();
                if (next == null) {
                    draining = false;
                    return;
                }
            }
            next.run();
        }
    }
}
