package dev.vnet.bgp.wire;

import io.netty.buffer.ByteBuf;

/**
 * Writes UPDATE messages straight into a {@link ByteBuf}, packing as many VPN-IPv4 NLRI into each as
 * fit in 4096 octets. The attributes are encoded once per attribute set ({@link #encodeAttributes}) and
 * copied into every UPDATE that carries them, so writing a table costs no object per route.
 *
 * <pre>
 *  reach:     header (19) | withdrawn length = 0 (2) | attribute length (2)
 *             | MP_REACH_NLRI: flags 0x90, type 14, length (2) | AFI 1 | SAFI 128 | next hop length 12
 *             |   RD 0 (8) | next hop (4) | reserved 0 | NLRI ...
 *             | the other attributes, ascending by type
 *  withdraw:  header (19) | 0 (2) | attribute length (2)
 *             | MP_UNREACH_NLRI: flags 0x90, type 15, length (2) | AFI 1 | SAFI 128 | NLRI ...
 * </pre>
 *
 * MP_REACH_NLRI / MP_UNREACH_NLRI go first (RFC 7606 §5.1), so that a receiver finds the routes even if
 * a later attribute is malformed; withdrawals carry the label field 0x800000 (RFC 8277 §2.4). With a
 * 2-octet AS session (no 4-octet AS capability on one side) ASNs above 65535 are sent as AS_TRANS with
 * AS4_PATH / AS4_AGGREGATOR beside them (RFC 6793 §4.2.2).
 */
public final class UpdateWriter {
    /** Octets of a reach UPDATE before its NLRI and other attributes. */
    public static final int REACH_OVERHEAD = BgpMessage.HEADER_LENGTH + 2 + 2 + 4 + 5 + 12;
    /** Octets of a withdraw UPDATE before its NLRI. */
    public static final int WITHDRAW_OVERHEAD = BgpMessage.HEADER_LENGTH + 2 + 2 + 4 + 3;
    private static final int MP_FLAGS = PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_EXTENDED_LENGTH;

    private UpdateWriter() {
    }

    /**
     * Encodes the attributes other than MP_REACH_NLRI into {@code out} (its writable end).
     * Unrecognised transitive attributes are written with the Partial bit set (RFC 4271 §5).
     */
    public static void encodeAttributes(PathAttributes attributes, boolean fourOctetAs, ByteBuf out) {
        if (attributes.origin() >= 0) {
            header(out, PathAttributes.FLAG_TRANSITIVE, PathAttributes.ORIGIN, 1);
            out.writeByte(attributes.origin());
        }
        AsPath asPath = attributes.asPath();
        boolean as4Path = false;
        if (asPath != null) {
            header(out, PathAttributes.FLAG_TRANSITIVE, PathAttributes.AS_PATH, asPath.encodedLength(fourOctetAs));
            writeSegments(asPath, fourOctetAs, out);
            as4Path = !fourOctetAs && asPath.hasFourOctetAs();
        }
        if (attributes.med() >= 0) {
            header(out, PathAttributes.FLAG_OPTIONAL, PathAttributes.MULTI_EXIT_DISC, 4);
            out.writeInt((int) attributes.med());
        }
        if (attributes.localPref() >= 0) {
            header(out, PathAttributes.FLAG_TRANSITIVE, PathAttributes.LOCAL_PREF, 4);
            out.writeInt((int) attributes.localPref());
        }
        if (attributes.atomicAggregate()) {
            header(out, PathAttributes.FLAG_TRANSITIVE, PathAttributes.ATOMIC_AGGREGATE, 0);
        }
        long aggregator = attributes.aggregator();
        boolean as4Aggregator = false;
        if (aggregator != -1) {
            long as = aggregator >>> 32;
            int flags = PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_TRANSITIVE;
            if (fourOctetAs) {
                header(out, flags, PathAttributes.AGGREGATOR, 8);
                out.writeInt((int) as);
            } else {
                header(out, flags, PathAttributes.AGGREGATOR, 6);
                as4Aggregator = as > 0xFFFF;
                out.writeShort(as4Aggregator ? AsPath.AS_TRANS : (int) as);
            }
            out.writeInt((int) aggregator);
        }
        int[] communities = attributes.communities();
        if (communities != null) {
            header(out, PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_TRANSITIVE, PathAttributes.COMMUNITIES, communities.length * 4);
            for (int community : communities) {
                out.writeInt(community);
            }
        }
        if (attributes.originatorId() >= 0) {
            header(out, PathAttributes.FLAG_OPTIONAL, PathAttributes.ORIGINATOR_ID, 4);
            out.writeInt((int) attributes.originatorId());
        }
        int[] clusters = attributes.clusterList();
        if (clusters != null) {
            header(out, PathAttributes.FLAG_OPTIONAL, PathAttributes.CLUSTER_LIST, clusters.length * 4);
            for (int cluster : clusters) {
                out.writeInt(cluster);
            }
        }
        long[] extended = attributes.extendedCommunities();
        if (extended != null) {
            header(out, PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_TRANSITIVE, PathAttributes.EXTENDED_COMMUNITIES, extended.length * 8);
            for (long community : extended) {
                out.writeLong(community);
            }
        }
        if (as4Path) {
            header(out, PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_TRANSITIVE, PathAttributes.AS4_PATH, asPath.encodedLength(true));
            writeSegments(asPath, true, out);
        }
        if (as4Aggregator) {
            header(out, PathAttributes.FLAG_OPTIONAL | PathAttributes.FLAG_TRANSITIVE, PathAttributes.AS4_AGGREGATOR, 8);
            out.writeInt((int) (aggregator >>> 32));
            out.writeInt((int) aggregator);
        }
        RawAttribute[] unknown = attributes.unknownTransitive();
        if (unknown != null) {
            for (RawAttribute raw : unknown) {
                int flags = (raw.flags() & ~PathAttributes.FLAG_EXTENDED_LENGTH) | PathAttributes.FLAG_PARTIAL;
                header(out, flags, raw.type(), raw.length());
                out.writeBytes(raw.valueUnsafe());
            }
        }
    }

    private static void writeSegments(AsPath path, boolean fourOctet, ByteBuf out) {
        int[] data = path.data();
        for (int i = 0; i < data.length; i += 2 + data[i + 1]) {
            out.writeByte(data[i]);
            out.writeByte(data[i + 1]);
            for (int j = 0; j < data[i + 1]; j++) {
                int as = data[i + 2 + j];
                if (fourOctet) {
                    out.writeInt(as);
                } else {
                    out.writeShort((as & 0xFFFF_0000) != 0 ? AsPath.AS_TRANS : as);
                }
            }
        }
    }

    /** Writes an attribute header, with the Extended Length bit exactly when the value needs it. */
    private static void header(ByteBuf out, int flags, int type, int length) {
        if (length > 255) {
            out.writeByte(flags | PathAttributes.FLAG_EXTENDED_LENGTH);
            out.writeByte(type);
            out.writeShort(length);
        } else {
            out.writeByte(flags & ~PathAttributes.FLAG_EXTENDED_LENGTH);
            out.writeByte(type);
            out.writeByte(length);
        }
    }

    /** NLRI octets a reach UPDATE with these encoded attributes has room for. */
    public static int reachRoom(int encodedAttributesLength) {
        return BgpMessage.MAX_LENGTH - REACH_OVERHEAD - encodedAttributesLength;
    }

    /**
     * Writes one UPDATE announcing NLRI {@code from} onward of {@code nlri} with the given next hop and
     * encoded attributes ({@link #encodeAttributes}), as many as fit; returns the index after the last one
     * written (at least one NLRI is written when any is left).
     */
    public static int writeReach(ByteBuf out, ByteBuf encodedAttributes, int nextHop, VpnNlriList nlri, int from) {
        int attributesLength = encodedAttributes.readableBytes();
        int room = reachRoom(attributesLength);
        if (room < VpnNlriList.MAX_ENCODED_LENGTH) {
            throw new IllegalArgumentException("path attributes of " + attributesLength + " octets leave no room for NLRI");
        }
        int start = startMpUpdate(out, PathAttributes.MP_REACH_NLRI);
        int mpLengthIndex = start + MP_LENGTH_OFFSET;
        out.writeByte(RouteDistinguisher.LENGTH + 4);
        out.writeLong(0);
        out.writeInt(nextHop);
        out.writeByte(0);
        int index = writeFitting(out, nlri, from, room, false);
        int mpLength = out.writerIndex() - mpLengthIndex - 2;
        out.setShort(mpLengthIndex, mpLength);
        out.writeBytes(encodedAttributes, encodedAttributes.readerIndex(), attributesLength);
        out.setShort(start + TOTAL_ATTRIBUTE_LENGTH_OFFSET, 4 + mpLength + attributesLength);
        out.setShort(start + BgpMessage.LENGTH_OFFSET, out.writerIndex() - start);
        return index;
    }

    /** Writes one UPDATE withdrawing NLRI {@code from} onward, as many as fit; returns the index after the last one written. */
    public static int writeWithdraw(ByteBuf out, VpnNlriList nlri, int from) {
        int start = startMpUpdate(out, PathAttributes.MP_UNREACH_NLRI);
        int mpLengthIndex = start + MP_LENGTH_OFFSET;
        int index = writeFitting(out, nlri, from, BgpMessage.MAX_LENGTH - WITHDRAW_OVERHEAD, true);
        int mpLength = out.writerIndex() - mpLengthIndex - 2;
        out.setShort(mpLengthIndex, mpLength);
        out.setShort(start + TOTAL_ATTRIBUTE_LENGTH_OFFSET, 4 + mpLength);
        out.setShort(start + BgpMessage.LENGTH_OFFSET, out.writerIndex() - start);
        return index;
    }

    /** Where an UPDATE's total path attribute length is, after the header and an empty withdrawn-routes field. */
    private static final int TOTAL_ATTRIBUTE_LENGTH_OFFSET = BgpMessage.HEADER_LENGTH + 2;
    /** Where the length of the MP attribute that opens the path attributes is (after its flags and type). */
    private static final int MP_LENGTH_OFFSET = TOTAL_ATTRIBUTE_LENGTH_OFFSET + 4;

    /**
     * Writes the start of an UPDATE that carries VPN-IPv4 routes in an MP attribute: the header, no
     * withdrawn routes, the path attribute length and the attribute's length to fill in later (at the
     * offsets above), then the attribute's AFI and SAFI. Returns where the message starts.
     */
    private static int startMpUpdate(ByteBuf out, int attributeType) {
        int start = out.writerIndex();
        writeHeader(out, BgpMessage.TYPE_UPDATE);
        out.writeShort(0);
        out.writeShort(0);
        out.writeByte(MP_FLAGS);
        out.writeByte(attributeType);
        out.writeShort(0);
        out.writeShort(Capability.Multiprotocol.AFI_IPV4);
        out.writeByte(Capability.Multiprotocol.SAFI_MPLS_VPN);
        return start;
    }

    /** Writes NLRI {@code from} onward while they fit in {@code room} octets; returns the index after the last one written. */
    private static int writeFitting(ByteBuf out, VpnNlriList nlri, int from, int room, boolean withdraw) {
        int index = from;
        while (index < nlri.size()) {
            int length = VpnNlriList.encodedLength(nlri.prefixLength(index));
            if (length > room) {
                break;
            }
            writeNlri(out, nlri.rd(index), nlri.address(index), nlri.prefixLength(index),
                    withdraw ? VpnNlriList.WITHDRAW_LABEL_ENTRY : nlri.labelEntry(index));
            room -= length;
            index++;
        }
        return index;
    }

    /** Writes the VPN-IPv4 End-of-RIB marker (RFC 4724 §2). */
    public static void writeEndOfRib(ByteBuf out) {
        writeWithdraw(out, new VpnNlriList(1), 0);
    }

    private static void writeNlri(ByteBuf out, long rd, int address, int prefixLength, int labelEntry) {
        out.writeByte(24 + 64 + prefixLength);
        out.writeMedium(labelEntry);
        out.writeLong(rd);
        for (int i = 0, octets = (prefixLength + 7) / 8; i < octets; i++) {
            out.writeByte(address >>> (24 - 8 * i));
        }
    }

    /** Writes the marker, a length placeholder (patched by the caller) and the type. */
    static void writeHeader(ByteBuf out, int type) {
        out.writeLong(-1L);
        out.writeLong(-1L);
        out.writeShort(0);
        out.writeByte(type);
    }
}
