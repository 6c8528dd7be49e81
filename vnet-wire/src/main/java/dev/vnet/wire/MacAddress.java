package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * 48-bit Ethernet MAC addresses held in the low 48 bits of a {@code long}.
 *
 * <pre>
 *   byte:   0      1      2      3      4      5
 *        +------+------+------+------+------+------+
 *        |  02  |  56  |  4e  |  00  |  00  |  01  |   "02:56:4e:00:00:01"
 *        +------+------+------+------+------+------+
 *   long:  0x0000_0256_4e00_0001   (byte 0 is bits 47..40)
 *                 ^ bit 40 = I/G bit (multicast), bit 41 = U/L bit (locally administered)
 * </pre>
 *
 * <p>A primitive {@code long} instead of a value class so that MAC learning tables and the
 * per-packet path can compare, hash and store addresses without allocating.
 */
public final class MacAddress {
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    public static final int LENGTH = 6;

    private static final long MULTICAST_BIT = 1L << 40;
    private static final long LOCALLY_ADMINISTERED_BIT = 1L << 41;
    private static final int TEXT_LENGTH = 17;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private MacAddress() {
    }

    /** Reads the six bytes at {@code index} in network order. */
    public static long read(ByteBuffer buffer, int index) {
        return ((long) Bytes.u16(buffer, index) << 32) | Bytes.u32(buffer, index + 2);
    }

    /** Writes the low 48 bits of {@code mac} as six bytes at {@code index}. */
    public static void write(ByteBuffer buffer, int index, long mac) {
        Bytes.put16(buffer, index, (int) (mac >>> 32));
        Bytes.put32(buffer, index + 2, (int) mac);
    }

    /** True for group addresses: the I/G bit of the first byte, which broadcast also has. */
    public static boolean isMulticast(long mac) {
        return (mac & MULTICAST_BIT) != 0;
    }

    public static boolean isBroadcast(long mac) {
        return (mac & BROADCAST) == BROADCAST;
    }

    public static boolean isLocallyAdministered(long mac) {
        return (mac & LOCALLY_ADMINISTERED_BIT) != 0;
    }

    /**
     * Parses exactly six colon-separated two-digit hex octets ({@code 02:56:4e:00:00:01}, either
     * case). Other spellings ({@code -} separators, dropped leading zeros) are rejected so that
     * configuration has one canonical form.
     *
     * @throws IllegalArgumentException if {@code text} is not in that form
     */
    public static long parse(String text) {
        if (text == null || text.length() != TEXT_LENGTH) {
            throw invalid(text);
        }
        long mac = 0;
        for (int octet = 0; octet < LENGTH; octet++) {
            int at = octet * 3;
            if (octet > 0 && text.charAt(at - 1) != ':') {
                throw invalid(text);
            }
            char high = text.charAt(at);
            char low = text.charAt(at + 1);
            if (!isAsciiHex(high) || !isAsciiHex(low)) {
                throw invalid(text);
            }
            mac = (mac << 8) | (Character.digit(high, 16) << 4) | Character.digit(low, 16);
        }
        return mac;
    }

    /** Lowercase colon form, e.g. {@code 02:56:4e:00:00:01}; bits above 47 are ignored. */
    public static String toString(long mac) {
        char[] text = new char[TEXT_LENGTH];
        for (int octet = 0; octet < LENGTH; octet++) {
            int value = (int) (mac >>> (40 - 8 * octet)) & 0xFF;
            int at = octet * 3;
            text[at] = HEX[value >>> 4];
            text[at + 1] = HEX[value & 0xF];
            if (octet < LENGTH - 1) {
                text[at + 2] = ':';
            }
        }
        return new String(text);
    }

    // Not Character.digit alone: it also accepts non-ASCII digits such as fullwidth ones.
    private static boolean isAsciiHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException(
            "invalid MAC address '" + text + "': expected six colon-separated hex octets like 02:56:4e:00:00:01");
    }
}
