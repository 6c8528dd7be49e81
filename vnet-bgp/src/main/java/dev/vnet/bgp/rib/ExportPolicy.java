package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.PathAttributes;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Which best paths go to which peer, and with what attributes (RFC 4271 §9.2, route reflection per
 * RFC 4456 §6, §8).
 *
 * <pre>
 *  learned from          to an external peer        to an internal peer
 *  this speaker          yes                        yes
 *  an external peer      yes                        yes
 *  an internal peer      yes                        only by reflection: from a client to every internal
 *                                                   peer, from a non-client to clients only
 *  the same peer         never (no use sending a route back where it came from)
 * </pre>
 *
 * To an external peer: our AS prepended, LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST removed, MED kept
 * only on routes we originated (a MED is not passed from one neighbouring AS to another, §5.1.4). To an
 * internal peer: LOCAL_PREF always present (the received one, else 100); when reflecting, ORIGINATOR_ID
 * set to the originating peer's identifier if not yet set, and our cluster id prepended to CLUSTER_LIST.
 * The next hop is never rewritten: in vnet it is the host that terminates the tunnel, not a speaker.
 *
 * <p>Exported attribute sets are cached per (source, attribute set), so a table of routes sharing a few
 * attribute sets is transformed a few times, and the equal results group into shared UPDATEs.
 */
public final class ExportPolicy {
    private final long localAs;
    private final int clusterId;
    private final Map<RouteSource, Map<PathAttributes, PathAttributes>> toInternal = new IdentityHashMap<>();
    private final Map<RouteSource, Map<PathAttributes, PathAttributes>> toExternal = new IdentityHashMap<>();

    public ExportPolicy(long localAs, int clusterId) {
        this.localAs = localAs;
        this.clusterId = clusterId;
    }

    /** The attributes {@code path} is sent to {@code peer} with, or null if it is not sent there. */
    public PathAttributes export(Path path, PeerRole peer) {
        RouteSource source = path.source();
        if (source == peer.source()) {
            return null;
        }
        if (peer.external()) {
            return toExternal.computeIfAbsent(source, s -> new IdentityHashMap<>())
                    .computeIfAbsent(path.attributes(), attributes -> external(attributes, source));
        }
        if (source.isInternal() && !source.routeReflectorClient() && !peer.routeReflectorClient()) {
            return null;
        }
        return toInternal.computeIfAbsent(source, s -> new IdentityHashMap<>())
                .computeIfAbsent(path.attributes(), attributes -> internal(attributes, source));
    }

    /** Forgets the cached sets of a source whose session ended. */
    public void forget(RouteSource source) {
        toInternal.remove(source);
        toExternal.remove(source);
    }

    /** Drops every cached set (they are rebuilt on demand); the speaker calls this when a flush is done. */
    public void clearCache() {
        toInternal.clear();
        toExternal.clear();
    }

    private PathAttributes external(PathAttributes attributes, RouteSource source) {
        AsPath path = attributes.asPath() == null ? AsPath.EMPTY : attributes.asPath();
        return attributes.toBuilder().asPath(path.prepend((int) localAs)).localPref(-1).originatorId(-1).clusterList(null)
                .med(source.isLocal() ? attributes.med() : -1).build();
    }

    private PathAttributes internal(PathAttributes attributes, RouteSource source) {
        PathAttributes.Builder builder = attributes.toBuilder();
        if (attributes.localPref() < 0) {
            builder.localPref(PathAttributes.DEFAULT_LOCAL_PREF);
        }
        if (attributes.asPath() == null) {
            builder.asPath(AsPath.EMPTY);
        }
        if (source.isInternal()) {
            if (attributes.originatorId() < 0) {
                builder.originatorId(Integer.toUnsignedLong(source.routerId()));
            }
            int[] clusters = attributes.clusterList();
            int[] longer = new int[clusters == null ? 1 : clusters.length + 1];
            longer[0] = clusterId;
            if (clusters != null) {
                System.arraycopy(clusters, 0, longer, 1, clusters.length);
            }
            builder.clusterList(longer);
        }
        return builder.build();
    }
}
