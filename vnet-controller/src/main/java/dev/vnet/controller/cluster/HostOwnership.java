/*
 * Which controller node owns which host: rendezvous (highest random weight) hashing over the live
 * nodes.
 *
 * Each (node, host) pair gets a weight from a hash of both names; a host's owner is the live node with
 * the highest weight for it. Every node computes the same answer from the same set of live nodes, with
 * no coordination and nothing stored per host. When a node leaves, only its hosts move, each to the
 * node with its next-highest weight, so the survivors' hosts stay where they are; when a node joins,
 * it takes over only the hosts for which it now has the highest weight (about 1/n of them). The weight
 * is the first 8 bytes of SHA-256 over "node\0host": stable across processes, versions and machines,
 * and well spread, so n nodes get about 1/n of the hosts each.
 */
package dev.vnet.controller.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Host-to-node assignment by rendezvous hashing; the algorithm is described at the top of this file. */
public final class HostOwnership {
    private HostOwnership() {
    }

    /** The owner of {@code host} among {@code liveNodes}; empty when no node is live. */
    public static Optional<String> ownerOf(String host, Collection<String> liveNodes) {
        String best = null;
        long bestWeight = 0;
        for (String node : liveNodes) {
            long weight = weight(node, host);
            if (best == null || Long.compareUnsigned(weight, bestWeight) > 0
                    || (weight == bestWeight && node.compareTo(best) < 0)) {
                best = node;
                bestWeight = weight;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The nodes in the order {@code host} would fall to them: its owner first, then who takes over. */
    public static List<String> preference(String host, Collection<String> liveNodes) {
        return liveNodes.stream().sorted((a, b) -> {
            int byWeight = Long.compareUnsigned(weight(b, host), weight(a, host));
            return byWeight != 0 ? byWeight : a.compareTo(b);
        }).toList();
    }

    static long weight(String node, String host) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(node.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(host.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(sha.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
