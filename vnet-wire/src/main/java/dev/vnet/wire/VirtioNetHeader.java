package dev.vnet.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 10-byte {@code struct virtio_net_hdr} a TAP opened with {@code IFF_VNET_HDR} puts in front of
 * every frame, both ways. It is how the kernel hands over a 64 KB TCP "super-frame" for us to segment
 * (TSO) and a checksum it has not computed yet (checksum offload), and how we hand the kernel a
 * coalesced super-frame whose checksum we did not compute either.
 *
 * <pre>
 *  0        1        2                 4                 6                 8                10
 * +--------+--------+-----------------+-----------------+-----------------+-----------------+
 * | flags  |gso_type| hdr_len (le16)  | gso_size (le16) | csum_start(le16)|csum_offset(le16)|
 * +--------+--------+-----------------+-----------------+-----------------+-----------------+
 * </pre>
 *
 * <ul>
 *   <li>{@code flags}: {@link #FLAG_NEEDS_CSUM} means the L4 checksum field holds only the pseudo-header
 *       sum; whoever finally puts the packet on a wire (or a receiving stack that trusts it) completes it
 *       over the bytes from {@code csum_start} and stores it at {@code csum_start + csum_offset}.</li>
 *   <li>{@code gso_type}: {@link #GSO_NONE}, {@link #GSO_TCPV4}, {@link #GSO_TCPV6}, plus the
 *       {@link #GSO_ECN} bit; {@code gso_size} is then the MSS and {@code hdr_len} the length of all
 *       headers (Ethernet + IP + TCP).</li>
 * </ul>
 * Fields are in the host's byte order for a TAP without {@code TUNSETVNETLE/BE}: little-endian on the
 * machines vnet runs on (x86-64, aarch64), so this codec reads them little-endian whatever the buffer's
 * order.
 */
public final class VirtioNetHeader extends Flyweight {
    public static final int LENGTH = 10;
    public static final int FLAGS_OFFSET = 0;
    public static final int GSO_TYPE_OFFSET = 1;
    public static final int HEADER_LENGTH_OFFSET = 2;
    public static final int GSO_SIZE_OFFSET = 4;
    public static final int CSUM_START_OFFSET = 6;
    public static final int CSUM_OFFSET_OFFSET = 8;
    public static final int FLAG_NEEDS_CSUM = 1;
    public static final int FLAG_DATA_VALID = 2;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_ECN = 0x80;

    /** False (and detached) if fewer than 10 bytes are available. */
    public boolean wrap(ByteBuffer buffer, int offset, int length) {
        return attach(buffer, offset, length, LENGTH);
    }

    public int flags() {
        return Bytes.u8(buffer, offset + FLAGS_OFFSET);
    }

    public boolean needsChecksum() {
        return (flags() & FLAG_NEEDS_CSUM) != 0;
    }

    /** The GSO type without the ECN bit. */
    public int gsoType() {
        return Bytes.u8(buffer, offset + GSO_TYPE_OFFSET) & ~GSO_ECN;
    }

    public boolean ecn() {
        return (Bytes.u8(buffer, offset + GSO_TYPE_OFFSET) & GSO_ECN) != 0;
    }

    public int headerLength() {
        return le16(buffer, offset + HEADER_LENGTH_OFFSET);
    }

    public int gsoSize() {
        return le16(buffer, offset + GSO_SIZE_OFFSET);
    }

    public int checksumStart() {
        return le16(buffer, offset + CSUM_START_OFFSET);
    }

    public int checksumOffset() {
        return le16(buffer, offset + CSUM_OFFSET_OFFSET);
    }

    /** Writes a complete header at {@code index}. */
    public static void write(ByteBuffer buffer, int index, int flags, int gsoType, int headerLength, int gsoSize,
                             int checksumStart, int checksumOffset) {
        Bytes.put8(buffer, index + FLAGS_OFFSET, flags);
        Bytes.put8(buffer, index + GSO_TYPE_OFFSET, gsoType);
        putLe16(buffer, index + HEADER_LENGTH_OFFSET, headerLength);
        putLe16(buffer, index + GSO_SIZE_OFFSET, gsoSize);
        putLe16(buffer, index + CSUM_START_OFFSET, checksumStart);
        putLe16(buffer, index + CSUM_OFFSET_OFFSET, checksumOffset);
    }

    /** A header that says: a plain frame, checksums complete. */
    public static void writeNone(ByteBuffer buffer, int index) {
        write(buffer, index, 0, GSO_NONE, 0, 0, 0, 0);
    }

    private static int le16(ByteBuffer buffer, int index) {
        short value = buffer.getShort(index);
        return (buffer.order() == ByteOrder.LITTLE_ENDIAN ? value : Short.reverseBytes(value)) & 0xFFFF;
    }

    private static void putLe16(ByteBuffer buffer, int index, int value) {
        short v = (short) value;
        buffer.putShort(index, buffer.order() == ByteOrder.LITTLE_ENDIAN ? v : Short.reverseBytes(v));
    }
}
