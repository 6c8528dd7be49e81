package dev.vnet.controller.graph;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One resource: its identity, its owner (ownership link), the nodes it owns, the nodes it uses and
 * the nodes that use it (usage links), and its task. Fields that change are changed only by the
 * node's own task (children, the kind-specific state) or, for usage links, by the task of the node
 * whose resource the link consumes; the sets are concurrent so readers elsewhere see a consistent set.
 */
final class Node {
    final String id;
    final Kind kind;
    final String name;
    final Node owner;
    final NodeTask task;
    final Set<Node> children = ConcurrentHashMap.newKeySet();
    final Set<Node> uses = ConcurrentHashMap.newKeySet();
    final Set<Node> usedBy = ConcurrentHashMap.newKeySet();
    /** Set by the first phase of a delete: the node takes no new children or users meanwhile. */
    volatile boolean deleting;
    volatile boolean deleted;
    /** What this node allocated and holds, by kind; see {@link Resources}. */
    volatile Object state;

    Node(String id, Kind kind, String name, Node owner, NodeTask task, Object state) {
        this.id = id;
        this.kind = kind;
        this.name = name;
        this.owner = owner;
        this.task = task;
        this.state = state;
    }

    @Override
    public String toString() {
        return kind.label() + " " + name + " (" + id + ")";
    }
}
