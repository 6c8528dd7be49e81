package dev.vnet.gateway.path;

import dev.vnet.wire.VnpToken;

import java.util.Arrays;

/**
 * The networks a gateway serves and each one's gateway key (shared by all of that network's gateways,
 * issued by the registry), as one immutable snapshot.
 *
 * <p>A VNP packet from a VM names no network; the gateway finds it by which key produces the token.
 * A gateway serves few networks, and {@link ValidatedTokens} remembers successes, so the HMACs are
 * paid once per (sender, flow, token), not per packet. {@link VnpToken} is not thread-safe: each thread
 * gets its own instances, made on first use.
 */
public final class NetworkKeys {
    public static final NetworkKeys NONE = new NetworkKeys(new long[0], new String[0], new byte[0][]);

    private final long[] networkIds;
    private final String[] names;
    private final byte[][] keys;
    private final ThreadLocal<VnpToken[]> tokens;

    public NetworkKeys(long[] networkIds, String[] names, byte[][] keys) {
        if (networkIds.length != keys.length || names.length != keys.length) {
            throw new IllegalArgumentException("one id, name and key per network");
        }
        this.networkIds = networkIds.clone();
        this.names = names.clone();
        this.keys = Arrays.stream(keys).map(byte[]::clone).toArray(byte[][]::new);
        this.tokens = ThreadLocal.withInitial(() -> new VnpToken[this.keys.length]);
    }

    public int size() {
        return networkIds.length;
    }

    public long networkId(int index) {
        return networkIds[index];
    }

    public String name(int index) {
        return names[index];
    }

    /** The index of {@code networkId}, or -1 when this gateway does not serve it. */
    public int indexOf(long networkId) {
        for (int i = 0; i < networkIds.length; i++) {
            if (networkIds[i] == networkId) {
                return i;
            }
        }
        return -1;
    }

    /** The network's name, or null. */
    public String nameOf(long networkId) {
        int index = indexOf(networkId);
        return index < 0 ? null : names[index];
    }

    /** This thread's HMAC over network {@code index}'s key. */
    public VnpToken token(int index) {
        VnpToken[] mine = tokens.get();
        VnpToken token = mine[index];
        if (token == null) {
            token = new VnpToken(keys[index]);
            mine[index] = token;
        }
        return token;
    }

    /** Whether another snapshot holds the same networks and keys (so caches built on this one stay valid). */
    public boolean sameAs(NetworkKeys other) {
        return Arrays.equals(networkIds, other.networkIds) && Arrays.deepEquals(keys, other.keys);
    }
}
