package dev.vnet.bgp.wire;

import dev.vnet.wire.Ipv4Address;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The path attributes of a route (RFC 4271 §5), immutable and shared by every route that has them: all
 * NLRI of one UPDATE point at one instance, so a table of 100,000 routes holds as many of these as it
 * has distinct attribute sets. Equality is by value (the Adj-RIB-Out groups routes by it to pack many
 * NLRI into one UPDATE).
 *
 * <p>{@link #nextHop()} is the route's next hop: for VPN-IPv4 the address in MP_REACH_NLRI (RFC 4364
 * §4.3.2, the RD part zero), which for vnet is the host's underlay address; the IPv4 NEXT_HOP attribute
 * only applies to the IPv4 NLRI field, which this speaker does not use, so it is validated and dropped.
 * Absent numeric attributes are -1; absent lists are null.
 */
public final class PathAttributes {
    public static final int FLAG_OPTIONAL = 0x80;
    public static final int FLAG_TRANSITIVE = 0x40;
    public static final int FLAG_PARTIAL = 0x20;
    public static final int FLAG_EXTENDED_LENGTH = 0x10;
    static final int FLAG_PARTIAL_AND_EXTENDED = FLAG_PARTIAL | FLAG_EXTENDED_LENGTH;

    public static final int ORIGIN = 1;
    public static final int AS_PATH = 2;
    public static final int NEXT_HOP = 3;
    public static final int MULTI_EXIT_DISC = 4;
    public static final int LOCAL_PREF = 5;
    public static final int ATOMIC_AGGREGATE = 6;
    public static final int AGGREGATOR = 7;
    public static final int COMMUNITIES = 8;
    public static final int ORIGINATOR_ID = 9;
    public static final int CLUSTER_LIST = 10;
    public static final int MP_REACH_NLRI = 14;
    public static final int MP_UNREACH_NLRI = 15;
    public static final int EXTENDED_COMMUNITIES = 16;
    public static final int AS4_PATH = 17;
    public static final int AS4_AGGREGATOR = 18;

    public static final int ORIGIN_IGP = 0;
    public static final int ORIGIN_EGP = 1;
    public static final int ORIGIN_INCOMPLETE = 2;
    public static final long DEFAULT_LOCAL_PREF = 100;

    private final int origin;
    private final AsPath asPath;
    private final int nextHop;
    private final long med;
    private final long localPref;
    private final boolean atomicAggregate;
    private final long aggregator;
    private final int[] communities;
    private final long originatorId;
    private final int[] clusterList;
    private final long[] extendedCommunities;
    private final RawAttribute[] unknownTransitive;
    private final int hash;
    private List<ExtendedCommunity> extendedCommunityList;

    private PathAttributes(Builder b) {
        origin = b.origin;
        asPath = b.asPath;
        nextHop = b.nextHop;
        med = b.med;
        localPref = b.localPref;
        atomicAggregate = b.atomicAggregate;
        aggregator = b.aggregator;
        communities = b.communities;
        originatorId = b.originatorId;
        clusterList = b.clusterList;
        extendedCommunities = b.extendedCommunities;
        unknownTransitive = b.unknownTransitive;
        int h = Objects.hash(origin, asPath, nextHop, med, localPref, atomicAggregate, aggregator, originatorId);
        h = h * 31 + Arrays.hashCode(communities);
        h = h * 31 + Arrays.hashCode(clusterList);
        h = h * 31 + Arrays.hashCode(extendedCommunities);
        hash = h * 31 + Arrays.hashCode(unknownTransitive);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.origin = origin;
        b.asPath = asPath;
        b.nextHop = nextHop;
        b.med = med;
        b.localPref = localPref;
        b.atomicAggregate = atomicAggregate;
        b.aggregator = aggregator;
        b.communities = communities;
        b.originatorId = originatorId;
        b.clusterList = clusterList;
        b.extendedCommunities = extendedCommunities;
        b.unknownTransitive = unknownTransitive;
        return b;
    }

    /** ORIGIN (0 IGP, 1 EGP, 2 INCOMPLETE), or -1. */
    public int origin() {
        return origin;
    }

    /** AS_PATH, or null when the attribute was absent. */
    public AsPath asPath() {
        return asPath;
    }

    /** The route's next hop (the MP_REACH_NLRI address for VPN-IPv4), as an IPv4 int. */
    public int nextHop() {
        return nextHop;
    }

    /** MULTI_EXIT_DISC (unsigned 32), or -1. */
    public long med() {
        return med;
    }

    /** LOCAL_PREF (unsigned 32), or -1. */
    public long localPref() {
        return localPref;
    }

    public boolean atomicAggregate() {
        return atomicAggregate;
    }

    /** AGGREGATOR as {@code as << 32 | address}, or -1 (which the reserved AS 4294967295 could never mean here). */
    public long aggregator() {
        return aggregator;
    }

    /** COMMUNITIES (RFC 1997), or null. The array is shared: do not modify. */
    public int[] communities() {
        return communities;
    }

    /** ORIGINATOR_ID (RFC 4456) as unsigned 32, or -1. */
    public long originatorId() {
        return originatorId;
    }

    /** CLUSTER_LIST (RFC 4456), or null. The array is shared: do not modify. */
    public int[] clusterList() {
        return clusterList;
    }

    /** EXTENDED_COMMUNITIES as 8-octet values, or null. The array is shared: do not modify. */
    public long[] extendedCommunities() {
        return extendedCommunities;
    }

    /** The extended communities as a list (built once per attribute set, then shared). */
    public List<ExtendedCommunity> extendedCommunityList() {
        List<ExtendedCommunity> list = extendedCommunityList;
        if (list == null) {
            if (extendedCommunities == null) {
                list = List.of();
            } else {
                List<ExtendedCommunity> built = new ArrayList<>(extendedCommunities.length);
                for (long value : extendedCommunities) {
                    built.add(new ExtendedCommunity(value));
                }
                list = Collections.unmodifiableList(built);
            }
            extendedCommunityList = list;
        }
        return list;
    }

    /** True if one of the extended communities is a route target equal to {@code routeTarget}. */
    public boolean hasExtendedCommunity(long value) {
        if (extendedCommunities != null) {
            for (long community : extendedCommunities) {
                if (community == value) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Unrecognised optional transitive attributes to pass on (Partial set), or null. Shared: do not modify. */
    public RawAttribute[] unknownTransitive() {
        return unknownTransitive;
    }

    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof PathAttributes o) || hash != o.hash) {
            return false;
        }
        return origin == o.origin && nextHop == o.nextHop && med == o.med && localPref == o.localPref
                && atomicAggregate == o.atomicAggregate && aggregator == o.aggregator && originatorId == o.originatorId
                && Objects.equals(asPath, o.asPath) && Arrays.equals(communities, o.communities)
                && Arrays.equals(clusterList, o.clusterList) && Arrays.equals(extendedCommunities, o.extendedCommunities)
                && Arrays.equals(unknownTransitive, o.unknownTransitive);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("{origin=").append(origin)
                .append(", as-path=[").append(asPath).append(']')
                .append(", next-hop=").append(Ipv4Address.toString(nextHop));
        if (med >= 0) {
            text.append(", med=").append(med);
        }
        if (localPref >= 0) {
            text.append(", local-pref=").append(localPref);
        }
        if (originatorId >= 0) {
            text.append(", originator=").append(Ipv4Address.toString((int) originatorId));
        }
        if (clusterList != null) {
            text.append(", cluster-list=[");
            for (int i = 0; i < clusterList.length; i++) {
                text.append(i == 0 ? "" : " ").append(Ipv4Address.toString(clusterList[i]));
            }
            text.append(']');
        }
        if (extendedCommunities != null) {
            text.append(", ext-communities=").append(extendedCommunityList());
        }
        if (communities != null) {
            text.append(", communities=").append(communities.length);
        }
        if (unknownTransitive != null) {
            text.append(", unknown=").append(Arrays.toString(unknownTransitive));
        }
        return text.append('}').toString();
    }

    /** Builds attribute sets; arrays handed in are kept (not copied): hand over ones nobody changes. */
    public static final class Builder {
        private int origin = -1;
        private AsPath asPath;
        private int nextHop;
        private long med = -1;
        private long localPref = -1;
        private boolean atomicAggregate;
        private long aggregator = -1;
        private int[] communities;
        private long originatorId = -1;
        private int[] clusterList;
        private long[] extendedCommunities;
        private RawAttribute[] unknownTransitive;

        private Builder() {
        }

        public Builder origin(int origin) {
            this.origin = origin;
            return this;
        }

        public Builder asPath(AsPath asPath) {
            this.asPath = asPath;
            return this;
        }

        public Builder nextHop(int nextHop) {
            this.nextHop = nextHop;
            return this;
        }

        public Builder med(long med) {
            this.med = med;
            return this;
        }

        public Builder localPref(long localPref) {
            this.localPref = localPref;
            return this;
        }

        public Builder atomicAggregate(boolean atomicAggregate) {
            this.atomicAggregate = atomicAggregate;
            return this;
        }

        public Builder aggregator(long aggregator) {
            this.aggregator = aggregator;
            return this;
        }

        public Builder communities(int[] communities) {
            this.communities = communities;
            return this;
        }

        public Builder originatorId(long originatorId) {
            this.originatorId = originatorId;
            return this;
        }

        public Builder clusterList(int[] clusterList) {
            this.clusterList = clusterList;
            return this;
        }

        public Builder extendedCommunities(long[] extendedCommunities) {
            this.extendedCommunities = extendedCommunities;
            return this;
        }

        public Builder extendedCommunities(List<ExtendedCommunity> list) {
            if (list == null || list.isEmpty()) {
                this.extendedCommunities = null;
            } else {
                long[] values = new long[list.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = list.get(i).value();
                }
                this.extendedCommunities = values;
            }
            return this;
        }

        public Builder unknownTransitive(RawAttribute[] unknownTransitive) {
            this.unknownTransitive = unknownTransitive == null || unknownTransitive.length == 0 ? null : unknownTransitive;
            return this;
        }

        public PathAttributes build() {
            return new PathAttributes(this);
        }
    }
}
