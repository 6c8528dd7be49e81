package dev.vnet.bgp.wire;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses an UPDATE body and decides, for every malformation, between the error handling approaches of
 * RFC 7606 §2: session reset (thrown as {@link MalformedMessageException}, the NOTIFICATION it carries is
 * sent), treat-as-withdraw and attribute discard (recorded in {@link Update.Problem}; the strongest one
 * found wins, §3 (h)). What each case gets:
 *
 * <pre>
 *  case                                                   handling            NOTIFICATION if reset
 *  withdrawn length / total attribute length overrun      session reset       3/1 Malformed Attribute List
 *  IPv4 withdrawn or NLRI field syntax error              session reset       3/10 Invalid Network Field
 *  attribute header or length overruns the attribute      treat-as-withdraw   (reset 3/1 when no MP_REACH_NLRI
 *    list (§4)                                                                 was read before it: its routes
 *                                                                              could not be found)
 *  MP_REACH / MP_UNREACH twice                            session reset       3/1
 *  any other attribute twice                              attribute discard   (all but the first)
 *  MP_REACH / MP_UNREACH flags, length, next hop length,  session reset       3/9 Optional Attribute Error
 *    NLRI syntax (§7.11, §7.12; "AFI/SAFI disable" is      (3/4 for flags)     data: the attribute
 *    the alternative, and VPN-IPv4 is this speaker's only family)
 *  unrecognised well-known attribute (Optional bit 0)     session reset       3/2, data: the attribute
 *  unrecognised optional non-transitive attribute         ignored
 *  unrecognised optional transitive attribute             kept, passed on with Partial set
 *  O/T flags wrong for a known attribute (§3 c)           treat-as-withdraw
 *  ORIGIN length or value, AS_PATH syntax, NEXT_HOP,      treat-as-withdraw
 *    MED, LOCAL_PREF length, COMMUNITIES, ORIGINATOR_ID,
 *    CLUSTER_LIST, EXTENDED_COMMUNITIES length (§7)
 *  ATOMIC_AGGREGATE, AGGREGATOR length (§7.6, §7.7)       attribute discard
 *  AS4_PATH / AS4_AGGREGATOR malformed (RFC 6793 §6),     attribute discard
 *    or received on a 4-octet session (§4.1)
 *  ORIGIN or AS_PATH missing with routes present (§3 d)   treat-as-withdraw
 * </pre>
 *
 * Semantic checks that need the session (LOCAL_PREF from an external peer, the first AS of an external
 * peer's path, loops) are the session's. One instance parses one UPDATE.
 */
final class UpdateDecoder {
    private static final int NONE = 0;
    private static final int DISCARD = 1;
    private static final int WITHDRAW = 2;
    private static final int VPN_NEXT_HOP_LENGTH = RouteDistinguisher.LENGTH + 4;

    private final ByteBuf body;
    private final boolean fourOctetAs;
    private final PathAttributes.Builder attributes = PathAttributes.builder();
    private final long[] seen = new long[4];
    private int action = NONE;
    private int problemSubcode;
    private String problemReason;
    private boolean anyPathAttribute;
    private boolean originPresent;
    private VpnNlriList reach;
    private VpnNlriList withdrawn;
    private boolean vpnUnreachPresent;
    private boolean mpReachPresent;
    private int otherFamily = -1;
    private AsPath asPath;
    private AsPath as4Path;
    private long aggregator = -1;
    private long as4Aggregator = -1;
    private List<RawAttribute> unknown;

    private UpdateDecoder(ByteBuf body, boolean fourOctetAs) {
        this.body = body;
        this.fourOctetAs = fourOctetAs;
    }

    /** Parses the UPDATE body that {@code body}'s readable bytes hold. */
    static Update decode(ByteBuf body, boolean fourOctetAs) throws MalformedMessageException {
        return new UpdateDecoder(body, fourOctetAs).decode();
    }

    private Update decode() throws MalformedMessageException {
        int start = body.readerIndex();
        int end = body.writerIndex();
        int bodyLength = end - start;
        int withdrawnLength = body.getUnsignedShort(start);
        if (2 + withdrawnLength + 2 > bodyLength) {
            throw reset(BgpError.MALFORMED_ATTRIBUTE_LIST, null, "withdrawn routes length " + withdrawnLength + " overruns the message");
        }
        int ipv4Prefixes = countIpv4Prefixes(start + 2, withdrawnLength, "withdrawn routes");
        int attributesStart = start + 4 + withdrawnLength;
        int attributesLength = body.getUnsignedShort(attributesStart - 2);
        int attributesEnd = attributesStart + attributesLength;
        if (attributesEnd > end) {
            throw reset(BgpError.MALFORMED_ATTRIBUTE_LIST, null, "total path attribute length " + attributesLength + " overruns the message");
        }
        int ipv4Nlri = countIpv4Prefixes(attributesEnd, end - attributesEnd, "NLRI");
        ipv4Prefixes += ipv4Nlri;

        int position = attributesStart;
        boolean listBroken = false;
        while (position < attributesEnd) {
            int remaining = attributesEnd - position;
            int flags = body.getUnsignedByte(position);
            int headerLength = (flags & PathAttributes.FLAG_EXTENDED_LENGTH) != 0 ? 4 : 3;
            if (remaining < headerLength) {
                listBroken = true;
                break;
            }
            int type = body.getUnsignedByte(position + 1);
            int length = headerLength == 4 ? body.getUnsignedShort(position + 2) : body.getUnsignedByte(position + 2);
            if (position + headerLength + length > attributesEnd) {
                listBroken = true;
                break;
            }
            attribute(flags, type, position, headerLength, length);
            position += headerLength + length;
        }
        if (listBroken) {
            if (!mpReachPresent) {
                throw reset(BgpError.MALFORMED_ATTRIBUTE_LIST, null,
                        "path attribute overruns the attribute list before any MP_REACH_NLRI: its routes cannot be found");
            }
            problem(WITHDRAW, BgpError.MALFORMED_ATTRIBUTE_LIST, "path attribute overruns the attribute list");
        }
        boolean hasRoutes = (reach != null && !reach.isEmpty()) || ipv4Nlri > 0;
        if (hasRoutes && (!originPresent || asPath == null)) {
            problem(WITHDRAW, BgpError.MISSING_WELL_KNOWN_ATTRIBUTE, asPath == null ? "AS_PATH missing" : "ORIGIN missing");
        }
        PathAttributes built = null;
        if (anyPathAttribute || mpReachPresent) {
            AsPath path = asPath;
            if (!fourOctetAs && path != null && as4Path != null) {
                path = AsPath.merge(path, as4Path);
            }
            long aggregatorValue = aggregator;
            if (!fourOctetAs && aggregator != -1 && (aggregator >>> 32) == AsPath.AS_TRANS && as4Aggregator != -1) {
                aggregatorValue = as4Aggregator;
            }
            built = attributes.asPath(path).aggregator(aggregatorValue)
                    .unknownTransitive(unknown == null ? null : unknown.toArray(RawAttribute[]::new)).build();
        }
        Update.Problem problem = action == NONE ? null : new Update.Problem(
                action == WITHDRAW ? Update.Problem.Action.TREAT_AS_WITHDRAW : Update.Problem.Action.ATTRIBUTE_DISCARD,
                BgpError.UPDATE_MESSAGE, problemSubcode, problemReason);
        return new Update(built, reach, withdrawn, vpnUnreachPresent, ipv4Prefixes, otherFamily, problem);
    }

    private void attribute(int flags, int type, int position, int headerLength, int length) throws MalformedMessageException {
        int value = position + headerLength;
        long bit = 1L << (type & 63);
        if ((seen[type >>> 6] & bit) != 0) {
            if (type == PathAttributes.MP_REACH_NLRI || type == PathAttributes.MP_UNREACH_NLRI) {
                throw reset(BgpError.MALFORMED_ATTRIBUTE_LIST, null, "attribute " + type + " appears twice");
            }
            problem(DISCARD, BgpError.MALFORMED_ATTRIBUTE_LIST, "attribute " + type + " appears twice; all but the first discarded");
            return;
        }
        seen[type >>> 6] |= bit;
        int expected = expectedFlags(type);
        if (expected < 0) {
            unrecognised(flags, type, position, headerLength, length);
            return;
        }
        if ((flags & (PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_TRANSITIVE)) != expected) {
            if (type == PathAttributes.MP_REACH_NLRI || type == PathAttributes.MP_UNREACH_NLRI) {
                throw reset(BgpError.ATTRIBUTE_FLAGS_ERROR, bytes(position, headerLength + length), "flags 0x"
                        + Integer.toHexString(flags) + " on attribute " + type);
            }
            problem(WITHDRAW, BgpError.ATTRIBUTE_FLAGS_ERROR, "flags 0x" + Integer.toHexString(flags) + " on attribute " + type);
            return;
        }
        if (type != PathAttributes.MP_REACH_NLRI && type != PathAttributes.MP_UNREACH_NLRI) {
            anyPathAttribute = true;
        }
        switch (type) {
            case PathAttributes.ORIGIN -> {
                if (length != 1) {
                    problem(WITHDRAW, BgpError.ATTRIBUTE_LENGTH_ERROR, "ORIGIN length " + length);
                } else if (body.getUnsignedByte(value) > PathAttributes.ORIGIN_INCOMPLETE) {
                    problem(WITHDRAW, BgpError.INVALID_ORIGIN, "ORIGIN " + body.getUnsignedByte(value));
                } else {
                    attributes.origin(body.getUnsignedByte(value));
                    originPresent = true;
                }
            }
            case PathAttributes.AS_PATH -> {
                AsPath path = asPath(value, length, fourOctetAs, true);
                if (path == null) {
                    problem(WITHDRAW, BgpError.MALFORMED_AS_PATH, "AS_PATH of " + length + " octets does not parse");
                } else {
                    asPath = path;
                }
            }
            case PathAttributes.NEXT_HOP -> {
                if (length != 4) {
                    problem(WITHDRAW, BgpError.ATTRIBUTE_LENGTH_ERROR, "NEXT_HOP length " + length);
                }
            }
            case PathAttributes.MULTI_EXIT_DISC -> {
                if (length != 4) {
                    problem(WITHDRAW, BgpError.ATTRIBUTE_LENGTH_ERROR, "MULTI_EXIT_DISC length " + length);
                } else {
                    attributes.med(body.getUnsignedInt(value));
                }
            }
            case PathAttributes.LOCAL_PREF -> {
                if (length != 4) {
                    problem(WITHDRAW, BgpError.ATTRIBUTE_LENGTH_ERROR, "LOCAL_PREF length " + length);
                } else {
                    attributes.localPref(body.getUnsignedInt(value));
                }
            }
            case PathAttributes.ATOMIC_AGGREGATE -> {
                if (length != 0) {
                    problem(DISCARD, BgpError.ATTRIBUTE_LENGTH_ERROR, "ATOMIC_AGGREGATE length " + length);
                } else {
                    attributes.atomicAggregate(true);
                }
            }
            case PathAttributes.AGGREGATOR -> {
                if (length != (fourOctetAs ? 8 : 6)) {
                    problem(DISCARD, BgpError.ATTRIBUTE_LENGTH_ERROR, "AGGREGATOR length " + length);
                } else {
                    long as = fourOctetAs ? body.getUnsignedInt(value) : body.getUnsignedShort(value);
                    aggregator = as << 32 | body.getUnsignedInt(value + length - 4);
                }
            }
            case PathAttributes.COMMUNITIES -> {
                if (length == 0 || length % 4 != 0) {
                    problem(WITHDRAW, BgpError.OPTIONAL_ATTRIBUTE_ERROR, "COMMUNITIES length " + length);
                } else {
                    int[] communities = new int[length / 4];
                    for (int i = 0; i < communities.length; i++) {
                        communities[i] = body.getInt(value + i * 4);
                    }
                    attributes.communities(communities);
                }
            }
            case PathAttributes.ORIGINATOR_ID -> {
                if (length != 4) {
                    problem(WITHDRAW, BgpError.ATTRIBUTE_LENGTH_ERROR, "ORIGINATOR_ID length " + length);
                } else {
                    attributes.originatorId(body.getUnsignedInt(value));
                }
            }
            case PathAttributes.CLUSTER_LIST -> {
                if (length == 0 || length % 4 != 0) {
                    problem(WITHDRAW, BgpError.ATTRIBUTE_LENGTH_ERROR, "CLUSTER_LIST length " + length);
                } else {
                    int[] clusters = new int[length / 4];
                    for (int i = 0; i < clusters.length; i++) {
                        clusters[i] = body.getInt(value + i * 4);
                    }
                    attributes.clusterList(clusters);
                }
            }
            case PathAttributes.MP_REACH_NLRI -> mpReach(position, headerLength, length);
            case PathAttributes.MP_UNREACH_NLRI -> mpUnreach(position, headerLength, length);
            case PathAttributes.EXTENDED_COMMUNITIES -> {
                if (length == 0 || length % 8 != 0) {
                    problem(WITHDRAW, BgpError.OPTIONAL_ATTRIBUTE_ERROR, "EXTENDED_COMMUNITIES length " + length);
                } else {
                    long[] communities = new long[length / 8];
                    for (int i = 0; i < communities.length; i++) {
                        communities[i] = body.getLong(value + i * 8);
                    }
                    attributes.extendedCommunities(communities);
                }
            }
            case PathAttributes.AS4_PATH -> {
                AsPath path = fourOctetAs ? null : asPath(value, length, true, false);
                if (path == null) {
                    problem(DISCARD, BgpError.OPTIONAL_ATTRIBUTE_ERROR, fourOctetAs ? "AS4_PATH on a 4-octet AS session" : "AS4_PATH does not parse");
                } else {
                    as4Path = path;
                }
            }
            case PathAttributes.AS4_AGGREGATOR -> {
                if (fourOctetAs || length != 8) {
                    problem(DISCARD, BgpError.OPTIONAL_ATTRIBUTE_ERROR, fourOctetAs ? "AS4_AGGREGATOR on a 4-octet AS session" : "AS4_AGGREGATOR length " + length);
                } else {
                    as4Aggregator = body.getUnsignedInt(value) << 32 | body.getUnsignedInt(value + 4);
                }
            }
            default -> throw new IllegalStateException("attribute " + type + " has expected flags but no parser");
        }
    }

    private void unrecognised(int flags, int type, int position, int headerLength, int length) throws MalformedMessageException {
        if ((flags & PathAttributes.FLAG_OPTIONAL) == 0) {
            throw reset(BgpError.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, bytes(position, headerLength + length),
                    "unrecognised well-known attribute " + type);
        }
        if ((flags & PathAttributes.FLAG_TRANSITIVE) != 0) {
            if (unknown == null) {
                unknown = new ArrayList<>(2);
            }
            unknown.add(new RawAttribute(flags, type, bytes(position + headerLength, length)));
            anyPathAttribute = true;
        }
        // optional non-transitive and unrecognised: quietly ignored (RFC 4271 §5)
    }

    /** O and T bits a known attribute must carry, or -1 for attributes this speaker does not recognise. */
    static int expectedFlags(int type) {
        return switch (type) {
            case PathAttributes.ORIGIN, PathAttributes.AS_PATH, PathAttributes.NEXT_HOP, PathAttributes.LOCAL_PREF,
                 PathAttributes.ATOMIC_AGGREGATE -> PathAttributes.FLAG_TRANSITIVE;
            case PathAttributes.MULTI_EXIT_DISC, PathAttributes.ORIGINATOR_ID, PathAttributes.CLUSTER_LIST,
                 PathAttributes.MP_REACH_NLRI, PathAttributes.MP_UNREACH_NLRI -> PathAttributes.FLAG_OPTIONAL;
            case PathAttributes.AGGREGATOR, PathAttributes.COMMUNITIES, PathAttributes.EXTENDED_COMMUNITIES,
                 PathAttributes.AS4_PATH, PathAttributes.AS4_AGGREGATOR -> PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_TRANSITIVE;
            default -> -1;
        };
    }

    /** Parses AS_PATH segments; null if malformed (RFC 7606 §7.2: unknown segment type, zero count, overrun). */
    private AsPath asPath(int value, int length, boolean fourOctet, boolean allowConfederation) {
        int asSize = fourOctet ? 4 : 2;
        int end = value + length;
        int count = 0;
        int position = value;
        while (position < end) {
            if (end - position < 2) {
                return null;
            }
            int segmentType = body.getUnsignedByte(position);
            int segmentCount = body.getUnsignedByte(position + 1);
            boolean known = segmentType == AsPath.AS_SET || segmentType == AsPath.AS_SEQUENCE
                    || (allowConfederation && (segmentType == AsPath.AS_CONFED_SEQUENCE || segmentType == AsPath.AS_CONFED_SET));
            if (!known || segmentCount == 0 || position + 2 + segmentCount * asSize > end) {
                return null;
            }
            count += 2 + segmentCount;
            position += 2 + segmentCount * asSize;
        }
        int[] data = new int[count];
        int out = 0;
        for (position = value; position < end; ) {
            int segmentCount = body.getUnsignedByte(position + 1);
            data[out++] = body.getUnsignedByte(position);
            data[out++] = segmentCount;
            position += 2;
            for (int i = 0; i < segmentCount; i++, position += asSize) {
                data[out++] = fourOctet ? body.getInt(position) : body.getUnsignedShort(position);
            }
        }
        return AsPath.ofValidated(data);
    }

    /**
     * MP_REACH_NLRI (RFC 4760 §3): AFI (2), SAFI (1), next hop length (1), next hop, reserved (1), NLRI.
     * For VPN-IPv4 the next hop is an RD of zero and an IPv4 address (RFC 4364 §4.3.2).
     */
    private void mpReach(int position, int headerLength, int length) throws MalformedMessageException {
        int value = position + headerLength;
        int end = value + length;
        mpReachPresent = true;
        if (length < 5) {
            throw mpError(position, headerLength, length, "MP_REACH_NLRI of " + length + " octets");
        }
        int afi = body.getUnsignedShort(value);
        int safi = body.getUnsignedByte(value + 2);
        int nextHopLength = body.getUnsignedByte(value + 3);
        if (4 + nextHopLength + 1 > length) {
            throw mpError(position, headerLength, length, "MP_REACH_NLRI next hop length " + nextHopLength + " overruns the attribute");
        }
        if (!isVpnIpv4(afi, safi)) {
            otherFamily = afi << 8 | safi;
            return;
        }
        if (nextHopLength != VPN_NEXT_HOP_LENGTH) {
            throw mpError(position, headerLength, length, "VPN-IPv4 next hop length " + nextHopLength + " (expected 12)");
        }
        attributes.nextHop(body.getInt(value + 4 + RouteDistinguisher.LENGTH));
        reach = new VpnNlriList(Math.max(1, (end - value) / 12));
        String error = vpnNlri(value + 4 + nextHopLength + 1, end, reach, false);
        if (error != null) {
            throw mpError(position, headerLength, length, error);
        }
    }

    /** MP_UNREACH_NLRI (RFC 4760 §4): AFI (2), SAFI (1), withdrawn routes. */
    private void mpUnreach(int position, int headerLength, int length) throws MalformedMessageException {
        int value = position + headerLength;
        if (length < 3) {
            throw mpError(position, headerLength, length, "MP_UNREACH_NLRI of " + length + " octets");
        }
        int afi = body.getUnsignedShort(value);
        int safi = body.getUnsignedByte(value + 2);
        if (!isVpnIpv4(afi, safi)) {
            otherFamily = afi << 8 | safi;
            return;
        }
        vpnUnreachPresent = true;
        withdrawn = new VpnNlriList(Math.max(1, length / 12));
        String error = vpnNlri(value + 3, value + length, withdrawn, true);
        if (error != null) {
            throw mpError(position, headerLength, length, error);
        }
    }

    private static boolean isVpnIpv4(int afi, int safi) {
        return afi == Capability.Multiprotocol.AFI_IPV4 && safi == Capability.Multiprotocol.SAFI_MPLS_VPN;
    }

    /**
     * Reads VPN-IPv4 NLRI from [position, end) into {@code out}; returns why they are malformed, or null.
     * A reachable route's label stack runs to the entry with the bottom-of-stack bit (RFC 8277 §2); a
     * withdrawal carries exactly one 3-octet label field whatever its value (RFC 8277 §2.4: 0x800000 or
     * the label, never more than one without the Multiple Labels capability, which is not negotiated).
     */
    private String vpnNlri(int position, int end, VpnNlriList out, boolean withdrawal) {
        while (position < end) {
            int bits = body.getUnsignedByte(position);
            int octets = (bits + 7) / 8;
            if (position + 1 + octets > end) {
                return "NLRI of " + bits + " bits overruns the attribute";
            }
            int labelEntries = 0;
            int firstLabel = 0;
            int cursor = position + 1;
            while (true) {
                if ((labelEntries + 1) * 24 + 64 > bits) {
                    return "NLRI of " + bits + " bits has no room for its label stack and RD";
                }
                int entry = body.getUnsignedMedium(cursor);
                if (labelEntries == 0) {
                    firstLabel = entry;
                }
                labelEntries++;
                cursor += 3;
                if (withdrawal || (entry & 1) != 0) {
                    break;
                }
            }
            int prefixBits = bits - labelEntries * 24 - 64;
            if (prefixBits > 32) {
                return "VPN-IPv4 prefix of " + prefixBits + " bits";
            }
            long rd = body.getLong(cursor);
            cursor += RouteDistinguisher.LENGTH;
            int address = 0;
            int prefixOctets = (prefixBits + 7) / 8;
            for (int i = 0; i < prefixOctets; i++) {
                address |= body.getUnsignedByte(cursor + i) << (24 - 8 * i);
            }
            out.add(rd, address & Ipv4Prefix.mask(prefixBits), prefixBits, firstLabel);
            position += 1 + octets;
        }
        return null;
    }

    /** Counts IPv4 prefixes in a classic withdrawn/NLRI field, resetting the session if one is malformed (RFC 7606 §5.3). */
    private int countIpv4Prefixes(int position, int length, String field) throws MalformedMessageException {
        int end = position + length;
        int count = 0;
        while (position < end) {
            int bits = body.getUnsignedByte(position);
            if (bits > 32 || position + 1 + (bits + 7) / 8 > end) {
                throw reset(BgpError.INVALID_NETWORK_FIELD, null, field + " prefix of " + bits + " bits is malformed or overruns the field");
            }
            position += 1 + (bits + 7) / 8;
            count++;
        }
        return count;
    }

    private void problem(int severity, int subcode, String reason) {
        if (severity > action) {
            action = severity;
            problemSubcode = subcode;
            problemReason = reason;
        }
    }

    private MalformedMessageException mpError(int position, int headerLength, int length, String reason) {
        return reset(BgpError.OPTIONAL_ATTRIBUTE_ERROR, bytes(position, headerLength + length), reason);
    }

    private static MalformedMessageException reset(int subcode, byte[] data, String reason) {
        return new MalformedMessageException(BgpError.UPDATE_MESSAGE, subcode, data, reason);
    }

    private byte[] bytes(int index, int length) {
        byte[] bytes = new byte[length];
        body.getBytes(index, bytes);
        return bytes;
    }
}
