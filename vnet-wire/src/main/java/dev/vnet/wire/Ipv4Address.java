package dev.vnet.wire;

import java.nio.ByteBuffer;

/**
 * IPv4 addresses held as an {@code int} whose most significant byte is the first octet.
 *
 * <pre>
 *   byte:   0      1      2      3
 *        +------+------+------+------+
 *        |  0a  |  00  |  00  |  01  |   "10.0.0.1"  ->  0x0a00_0001
 *        +------+------+------+------+
 * </pre>
 *
 * <p>A primitive instead of {@link java.net.InetAddress} so that the per-packet path can compare and
 * look addresses up without allocating (and without ever touching name resolution). The value is
 * raw 32 bits: callers compare with {@code ==} and order with {@link Integer#compareUnsigned}.
 */
public final class Ipv4Address {
    public static final int LENGTH = 4;

    private Ipv4Address() {
    }

    public static int read(ByteBuffer buffer, int index) {
        return Bytes.i32(buffer, index);
    }

    public static void write(ByteBuffer buffer, int index, int address) {
        Bytes.put32(buffer, index, address);
    }

    /**
     * Parses a strict dotted quad: four decimal octets 0..255 separated by dots. Leading zeros
     * ({@code 010}), signs, whitespace and the shortened forms {@code inet_aton} accepts ({@code 10.1})
     * are rejected because they are ambiguous (octal in some tools) or almost always typos.
     *
     * @throws IllegalArgumentException if {@code text} is not a strict dotted quad
     */
    public static int parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 15) {
            throw invalid(text);
        }
        int address = 0;
        int octets = 0;
        int at = 0;
        int end = text.length();
        while (true) {
            int start = at;
            int value = 0;
            while (at < end && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
                value = value * 10 + (text.charAt(at) - '0');
                at++;
            }
            int digits = at - start;
            if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && text.charAt(start) == '0')) {
                throw invalid(text);
            }
            address = (address << 8) | value;
            octets++;
            if (octets == 4) {
                if (at != end) {
                    throw invalid(text);
                }
                return address;
            }
            if (at >= end || text.charAt(at) != '.') {
                throw invalid(text);
            }
            at++;
        }
    }

    public static String toString(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." + (address & 0xFF);
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException(
            "invalid IPv4 address '" + text + "': expected a dotted quad of four decimal octets 0-255 without leading zeros, like 10.0.0.1");
    }
}
