package dev.vnet.wire;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The VNP token: the first 64 bits of HMAC-SHA256 keyed with the destination VM's 256-bit secret, over
 * an 18-byte message of fixed-size fields (seed 003, FIG. 4 and 6), all big-endian:
 *
 * <pre>
 *  offset  size  field
 *   0      4     source host IPv4 address   (the outer source address)
 *   4      2     source host UDP port       (the port reserved for the source VM)
 *   6      4     source VM IPv4 address     (the inner source address)
 *  10      4     destination VM IPv4 address
 *  14      4     expiry, Unix seconds       (0xFFFFFFFF = never)
 * </pre>
 *
 * Fixed sizes make the concatenation unambiguous without separators. A token therefore binds who may
 * send (host, port, VM address), to whom, and until when; only the registry and the destination VM's
 * agent hold the key, so neither the source VM nor its host can make one up.
 *
 * <p>One instance per key and thread. HMAC (RFC 2104) is computed here over {@link MessageDigest}
 * with the key pads prepared once: {@code H((K ^ opad) || H((K ^ ipad) || message))}. The JDK's
 * {@code Mac.doFinal} allocates a result array on every call; this way {@link #compute} allocates
 * nothing, and the SHA-256 compression still runs on the JDK's intrinsics.
 */
public final class VnpToken {
    public static final int KEY_LENGTH = 32;
    public static final int MESSAGE_LENGTH = 18;

    private static final int BLOCK = 64;
    private static final int DIGEST = 32;

    private final MessageDigest sha256;
    private final byte[] innerPad = new byte[BLOCK];
    private final byte[] outerPad = new byte[BLOCK];
    private final byte[] message = new byte[MESSAGE_LENGTH];
    private final byte[] digest = new byte[DIGEST];

    public VnpToken(byte[] key) {
        if (key == null || key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("a VNP key has " + KEY_LENGTH + " bytes");
        }
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
        for (int i = 0; i < BLOCK; i++) {
            byte k = i < key.length ? key[i] : 0;
            innerPad[i] = (byte) (k ^ 0x36);
            outerPad[i] = (byte) (k ^ 0x5c);
        }
    }

    public long compute(int sourceHost, int sourcePort, int sourceVm, int destinationVm, long expiry) {
        writeMessage(message, sourceHost, sourcePort, sourceVm, destinationVm, expiry);
        try {
            sha256.update(innerPad);
            sha256.update(message);
            sha256.digest(digest, 0, DIGEST);
            sha256.update(outerPad);
            sha256.update(digest);
            sha256.digest(digest, 0, DIGEST);
        } catch (DigestException e) {
            throw new IllegalStateException(e);
        }
        long token = 0;
        for (int i = 0; i < 8; i++) {
            token = (token << 8) | (digest[i] & 0xFF);
        }
        return token;
    }

    /** The exact bytes a token is computed over (see the class comment). */
    public static void writeMessage(byte[] out, int sourceHost, int sourcePort, int sourceVm, int destinationVm, long expiry) {
        putInt(out, 0, sourceHost);
        out[4] = (byte) (sourcePort >>> 8);
        out[5] = (byte) sourcePort;
        putInt(out, 6, sourceVm);
        putInt(out, 10, destinationVm);
        putInt(out, 14, (int) expiry);
    }

    private static void putInt(byte[] out, int index, int value) {
        out[index] = (byte) (value >>> 24);
        out[index + 1] = (byte) (value >>> 16);
        out[index + 2] = (byte) (value >>> 8);
        out[index + 3] = (byte) value;
    }
}
