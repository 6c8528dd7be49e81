package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.AsPath;
import dev.vnet.bgp.wire.PathAttributes;

/**
 * The BGP decision process for one destination (RFC 4271 §9.1.2, with the route reflection tie-breakers
 * of RFC 4456 §9). The candidates are whittled down one rule at a time, in this order, until one is left:
 *
 * <ol>
 *   <li>highest degree of preference: LOCAL_PREF, or the default 100 when absent (routes from external
 *       peers never carry it: it is dropped on receipt, RFC 7606 §7.5);</li>
 *   <li>a route this speaker originated (a common local rule; nothing in a vnet deployment originates
 *       the same RD and prefix in two places, so it only orders the impossible);</li>
 *   <li>shortest AS_PATH (an AS_SET counts 1, confederation segments 0);</li>
 *   <li>lowest ORIGIN (IGP &lt; EGP &lt; INCOMPLETE);</li>
 *   <li>lowest MULTI_EXIT_DISC, compared only among routes from the same neighbouring AS (the first AS
 *       of the path; a missing MED is 0): a route is dropped if another from its neighbour AS has a lower
 *       MED. This is why the process eliminates rather than sorts: MED is not a total order;</li>
 *   <li>routes from external peers over routes from internal peers;</li>
 *   <li>(interior cost to the next hop: every vnet next hop is a host on the same underlay, equal cost);</li>
 *   <li>lowest BGP identifier: the ORIGINATOR_ID if the route carries one, else the peer's identifier;</li>
 *   <li>shortest CLUSTER_LIST;</li>
 *   <li>lowest peer address.</li>
 * </ol>
 */
public final class BestPathSelection {
    private BestPathSelection() {
    }

    /** The best of {@code count} candidates in {@code candidates} (which it reorders). */
    public static Path select(Path[] candidates, int count) {
        int n = count;
        n = keepMax(candidates, n, Rule.PREFERENCE);
        n = keepMax(candidates, n, Rule.LOCAL);
        n = keepMax(candidates, n, Rule.SHORT_PATH);
        n = keepMax(candidates, n, Rule.ORIGIN);
        n = med(candidates, n);
        n = keepMax(candidates, n, Rule.EXTERNAL);
        n = keepMax(candidates, n, Rule.LOW_IDENTIFIER);
        n = keepMax(candidates, n, Rule.SHORT_CLUSTER_LIST);
        n = keepMax(candidates, n, Rule.LOW_ADDRESS);
        return candidates[0];
    }

    /** Each rule scores a path; higher is better. */
    private enum Rule {
        PREFERENCE, LOCAL, SHORT_PATH, ORIGIN, EXTERNAL, LOW_IDENTIFIER, SHORT_CLUSTER_LIST, LOW_ADDRESS;

        long score(Path path) {
            PathAttributes attributes = path.attributes();
            RouteSource source = path.source();
            return switch (this) {
                case PREFERENCE -> attributes.localPref() >= 0 ? attributes.localPref() : PathAttributes.DEFAULT_LOCAL_PREF;
                case LOCAL -> source.isLocal() ? 1 : 0;
                case SHORT_PATH -> -(attributes.asPath() == null ? 0 : attributes.asPath().selectionLength());
                case ORIGIN -> -Math.max(0, attributes.origin());
                case EXTERNAL -> source.isExternal() ? 1 : 0;
                case LOW_IDENTIFIER -> -(attributes.originatorId() >= 0 ? attributes.originatorId() : Integer.toUnsignedLong(source.routerId()));
                case SHORT_CLUSTER_LIST -> -(attributes.clusterList() == null ? 0 : attributes.clusterList().length);
                case LOW_ADDRESS -> -Integer.toUnsignedLong(source.peerAddress());
            };
        }
    }

    /** Moves the candidates with the highest score to the front; returns how many there are. */
    private static int keepMax(Path[] candidates, int count, Rule rule) {
        if (count <= 1) {
            return count;
        }
        long best = Long.MIN_VALUE;
        for (int i = 0; i < count; i++) {
            best = Math.max(best, rule.score(candidates[i]));
        }
        int kept = 0;
        for (int i = 0; i < count; i++) {
            if (rule.score(candidates[i]) == best) {
                Path keep = candidates[i];
                candidates[i] = candidates[kept];
                candidates[kept++] = keep;
            }
        }
        return kept;
    }

    private static int med(Path[] candidates, int count) {
        if (count <= 1) {
            return count;
        }
        int kept = 0;
        for (int i = 0; i < count; i++) {
            Path candidate = candidates[i];
            long neighbour = neighbourAs(candidate);
            long med = med(candidate);
            boolean beaten = false;
            for (int j = 0; j < count && !beaten; j++) {
                beaten = j != i && neighbourAs(candidates[j]) == neighbour && med(candidates[j]) < med;
            }
            if (!beaten) {
                candidates[i] = candidates[kept];
                candidates[kept++] = candidate;
            }
        }
        return kept;
    }

    private static long neighbourAs(Path path) {
        AsPath asPath = path.attributes().asPath();
        return asPath == null ? 0 : Integer.toUnsignedLong(asPath.firstAs());
    }

    private static long med(Path path) {
        long med = path.attributes().med();
        return med < 0 ? 0 : med;
    }
}
