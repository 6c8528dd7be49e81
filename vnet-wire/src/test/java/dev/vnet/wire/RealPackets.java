package dev.vnet.wire;

/**
 * Frames captured from a Linux 6.x kernel on the loopback interface with an AF_PACKET socket
 * (hence all-zero MAC addresses), except where noted.
 *
 * <p>Loopback never computes TCP/UDP checksums (the kernel leaves them for offload, so the captured
 * field holds only the pseudo-header sum); in {@link #TCP_SYN} and {@link #UDP_HELLO} that field was
 * replaced with the checksum computed independently (Python, RFC 1071). Everything else, IPv4
 * header and ICMP checksums included, is byte-for-byte what the kernel sent.
 */
final class RealPackets {
    private RealPackets() {
    }

    /** {@code connect()} to 127.0.0.1:41723: SYN with MSS 65495, SACK permitted, timestamps, NOP, window scale 10. */
    static final byte[] TCP_SYN = Buffers.hex("""
        000000000000 000000000000 0800
        4500 003c 7611 4000 4006 c6a8 7f000001 7f000001
        9a48 a2fb 7d6c20b9 00000000 a002 ffd7 a253 0000
        0204ffd7 0402 080a53b57e8c00000000 01 03030a
        """);

    /** {@code sendto("hello vnet", 127.0.0.1:47900)}. */
    static final byte[] UDP_HELLO = Buffers.hex("""
        000000000000 000000000000 0800
        4500 0026 48a5 4000 4011 f41f 7f000001 7f000001
        a4a7 bb1c 0012 822e
        68656c6c6f20766e6574
        """);

    /** ICMP echo request (id 0x1234, seq 1, 40 data bytes 0x10..0x37); IPv4 header by the kernel. */
    static final byte[] ICMP_ECHO_REQUEST = Buffers.hex("""
        000000000000 000000000000 0800
        4500 0044 3fc6 4000 4001 fcf0 7f000001 7f000001
        08 00 26f8 1234 0001
        101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637
        """);

    /** The kernel's own reply to {@link #ICMP_ECHO_REQUEST}: note no DF bit and the kernel's checksum. */
    static final byte[] ICMP_ECHO_REPLY = Buffers.hex("""
        000000000000 000000000000 0800
        4500 0044 3fc7 0000 4001 3cf0 7f000001 7f000001
        00 00 2ef8 1234 0001
        101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637
        """);

    /** The kernel's port unreachable for {@link #UDP_HELLO} (TOS 0xc0), quoting the datagram as sent (pre-checksum). */
    static final byte[] ICMP_PORT_UNREACHABLE = Buffers.hex("""
        000000000000 000000000000 0800
        45c0 0042 3fc5 0000 4001 3c34 7f000001 7f000001
        03 03 7f2b 00000000
        4500 0026 48a5 4000 4011 f41f 7f000001 7f000001 a4a7 bb1c 0012 fe25 68656c6c6f20766e6574
        """);

    /**
     * Built by hand (loopback has no ARP), laid out exactly as Linux sends a request: broadcast,
     * "who has 10.0.0.2? tell 10.0.0.1", target MAC zero, padded to the 60-byte Ethernet minimum.
     */
    static final byte[] ARP_REQUEST = Buffers.hex("""
        ffffffffffff 02564e000001 0806
        0001 0800 06 04 0001 02564e000001 0a000001 000000000000 0a000002
        000000000000000000000000000000000000
        """);
}
