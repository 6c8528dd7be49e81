package dev.vnet.bgp.wire;

import java.util.Arrays;

/**
 * VPN-IPv4 NLRI (RFC 4364 §4.3.4, labels per RFC 8277) packed in two growable {@code long} arrays, so an
 * UPDATE with hundreds of routes costs two arrays, not an object per route.
 *
 * <pre>
 *  wire:     | length in bits (1) | label stack entry (3) | RD (8) | prefix (0-4 octets) |
 *  label stack entry: label (20 bits) | traffic class (3) | bottom of stack (1)
 *  rds[i]:   the RD's 8 octets
 *  nlri[i]:  address (32) | prefix length (8) | label stack entry (24)
 * </pre>
 *
 * The label stack entry is kept whole (a withdrawal's is the RFC 8277 compatibility value 0x800000).
 */
public final class VpnNlriList {
    /** Octets of one NLRI before its prefix octets: length, one label stack entry, RD. */
    public static final int FIXED_LENGTH = 1 + 3 + RouteDistinguisher.LENGTH;
    /** The longest encoded NLRI (a /32). */
    public static final int MAX_ENCODED_LENGTH = FIXED_LENGTH + 4;
    /** Label stack entry sent in MP_UNREACH_NLRI (RFC 8277 §2.4). */
    public static final int WITHDRAW_LABEL_ENTRY = 0x800000;
    public static final int MAX_LABEL = 0xFFFFF;

    private long[] rds;
    private long[] nlri;
    private int size;

    public VpnNlriList() {
        this(16);
    }

    public VpnNlriList(int capacity) {
        rds = new long[Math.max(1, capacity)];
        nlri = new long[rds.length];
    }

    /** The label stack entry for one label: the label, traffic class 0, bottom of stack set. */
    public static int labelEntryOf(int label) {
        if (label < 0 || label > MAX_LABEL) {
            throw new IllegalArgumentException("an MPLS label is 20 bits (0.." + MAX_LABEL + "): " + label);
        }
        return label << 4 | 1;
    }

    /** Encoded size of one NLRI with this prefix length. */
    public static int encodedLength(int prefixLength) {
        return FIXED_LENGTH + (prefixLength + 7) / 8;
    }

    public void add(long rd, int address, int prefixLength, int labelEntry) {
        if (size == rds.length) {
            rds = Arrays.copyOf(rds, size * 2);
            nlri = Arrays.copyOf(nlri, size * 2);
        }
        rds[size] = rd;
        nlri[size] = (address & 0xFFFF_FFFFL) << 32 | (long) (prefixLength & 0xFF) << 24 | (labelEntry & 0xFF_FFFF);
        size++;
    }

    public void add(RouteDistinguisher rd, Ipv4Prefix prefix, int label) {
        add(rd.value(), prefix.address(), prefix.length(), labelEntryOf(label));
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public void clear() {
        size = 0;
    }

    public long rd(int index) {
        check(index);
        return rds[index];
    }

    public int address(int index) {
        check(index);
        return (int) (nlri[index] >>> 32);
    }

    public int prefixLength(int index) {
        check(index);
        return (int) (nlri[index] >>> 24) & 0xFF;
    }

    /** The 3-octet label stack entry as received or given. */
    public int labelEntry(int index) {
        check(index);
        return (int) nlri[index] & 0xFF_FFFF;
    }

    /** The 20-bit label of the entry. */
    public int label(int index) {
        return labelEntry(index) >>> 4;
    }

    /** Encoded size of all NLRI. */
    public int encodedLength() {
        int length = 0;
        for (int i = 0; i < size; i++) {
            length += encodedLength(prefixLength(i));
        }
        return length;
    }

    private void check(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException(index);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof VpnNlriList list && list.size == size
                && Arrays.equals(rds, 0, size, list.rds, 0, size) && Arrays.equals(nlri, 0, size, list.nlri, 0, size);
    }

    @Override
    public int hashCode() {
        int hash = size;
        for (int i = 0; i < size; i++) {
            hash = hash * 31 + Long.hashCode(rds[i]) * 17 + Long.hashCode(nlri[i]);
        }
        return hash;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < size && i < 8; i++) {
            text.append(i == 0 ? "" : ", ").append(new RouteDistinguisher(rds[i])).append(' ')
                    .append(new Ipv4Prefix(address(i), prefixLength(i))).append(" label ").append(label(i));
        }
        return text.append(size > 8 ? ", ... " + size + " in all]" : "]").toString();
    }
}
