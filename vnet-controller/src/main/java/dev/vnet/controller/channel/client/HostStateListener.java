package dev.vnet.controller.channel.client;

/**
 * Applies the controller's updates to the agent (its TAPs, its forwarding tables). Called one change
 * at a time, on a gRPC thread, in the order the controller sent them.
 */
@FunctionalInterface
public interface HostStateListener {
    /**
     * Applies {@code change}. Returning acknowledges {@code change.version()} to the controller.
     * Throwing acknowledges nothing: the client keeps its previous state, drops the connection and,
     * after a back-off, reconnects and is given the full state again, whose diff against the previous
     * state covers this change (and undoes whatever part of it was applied, where needed).
     */
    void apply(HostStateChange change) throws Exception;
}
