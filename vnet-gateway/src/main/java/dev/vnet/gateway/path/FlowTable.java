package dev.vnet.gateway.path;

/**
 * A gateway's own flow state (seed 003: the gateway remembers which VM serves a flow, so a flow keeps
 * its VM while that VM is healthy even when the healthy set, and with it the mapping, changes).
 * Gateways share none of it: a flow that moves to another gateway is mapped there by the same
 * consistent mapping over the same healthy set, so it lands on the same VM.
 *
 * <h2>Layout</h2>
 * Open addressing with linear probing over parallel primitive arrays (no objects per flow, nothing
 * allocated per packet). A key is the flow's identity fields: client address and VIP address in one
 * long, protocol and ports in another (masked as the VIP's flow identity says, so with a 3-tuple
 * identity all of a client's connections share one entry). The value is the VIP's configuration
 * generation, the backend index and the expiry second.
 *
 * <h2>Expiry without deletion</h2>
 * Entries are never removed: one whose expiry has passed counts as absent, and an insert reuses the
 * first expired slot on its probe path. A probe stops at a never-used slot or after
 * {@link #MAX_PROBES}; an insert that finds no room is refused (the flow is still forwarded by the
 * mapping, only not pinned; counted as {@code flow_table_full}). Owned by one thread.
 *
 * <h2>Closing flows</h2>
 * Once a TCP flow's client sent FIN or RST ({@link #closing}), its entry lives only
 * {@link #CLOSING_SECONDS} past its last packet instead of the VIP's idle timeout: a pin that outlives
 * its connection would send a later connection of the same 5-tuple, which reaches this gateway
 * without its SYN (another gateway failed), to the old backend instead of the one the mapping names.
 * A new pin clears the mark.
 */
public final class FlowTable {
    static final int MAX_PROBES = 32;
    private static final int NEVER_USED = 0;
    /** How long a flow whose client sent FIN or RST keeps its pin after its last packet. */
    public static final int CLOSING_SECONDS = 10;

    private final long[] addresses;
    private final long[] portsAndProtocol;
    private final int[] generations;
    private final int[] backends;
    /** Second at which the entry expires; 0 marks a never-used slot. */
    private final int[] expiries;
    /** Set once the flow's client closed: the entry then lives {@link #CLOSING_SECONDS} past its last packet. */
    private final boolean[] closing;
    private final int mask;

    /** @param capacity a power of two: the most flows held at once */
    public FlowTable(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("flow table capacity must be a power of two, not " + capacity);
        }
        addresses = new long[capacity];
        portsAndProtocol = new long[capacity];
        generations = new int[capacity];
        backends = new int[capacity];
        expiries = new int[capacity];
        closing = new boolean[capacity];
        mask = capacity - 1;
    }

    public static long addressKey(int client, int vip) {
        return ((long) client << 32) | (vip & 0xFFFF_FFFFL);
    }

    /** Bit 63 set so that no key equals the zero of a never-used slot by accident. */
    public static long portKey(int protocol, int clientPort, int vipPort) {
        return (1L << 63) | ((long) (protocol & 0xFF) << 32) | ((long) (clientPort & 0xFFFF) << 16) | (vipPort & 0xFFFF);
    }

    /**
     * The backend pinned for this flow under {@code generation}, extending its life to
     * {@code now + idleSeconds}; -1 when there is none (absent, expired, or of an older configuration).
     */
    public int lookup(long addressKey, long portKey, int generation, int now, int idleSeconds) {
        int slot = slot(addressKey, portKey);
        for (int probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & mask) {
            int expiry = expiries[slot];
            if (expiry == NEVER_USED) {
                return -1;
            }
            if (addresses[slot] == addressKey && portsAndProtocol[slot] == portKey) {
                if (expiry <= now || generations[slot] != generation) {
                    return -1;
                }
                expiries[slot] = now + (closing[slot] ? Math.min(idleSeconds, CLOSING_SECONDS) : idleSeconds);
                return backends[slot];
            }
        }
        return -1;
    }

    /** Pins the flow to {@code backend}; false when its probe path has no free or expired slot. */
    public boolean pin(long addressKey, long portKey, int generation, int backend, int now, int idleSeconds) {
        int slot = slot(addressKey, portKey);
        int reusable = -1;
        for (int probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & mask) {
            int expiry = expiries[slot];
            if (expiry == NEVER_USED || (addresses[slot] == addressKey && portsAndProtocol[slot] == portKey)) {
                reusable = reusable >= 0 && expiry == NEVER_USED ? reusable : slot;
                break;
            }
            if (expiry <= now && reusable < 0) {
                reusable = slot;
            }
        }
        if (reusable < 0) {
            return false;
        }
        addresses[reusable] = addressKey;
        portsAndProtocol[reusable] = portKey;
        generations[reusable] = generation;
        backends[reusable] = backend;
        expiries[reusable] = Math.max(1, now + idleSeconds);
        closing[reusable] = false;
        return true;
    }

    /** Flows whose expiry has not passed: a full scan, for counters and tests, not for the fast path. */
    public int live(int now) {
        int count = 0;
        for (int expiry : expiries) {
            if (expiry > now) {
                count++;
            }
        }
        return count;
    }

    /** Marks the flow's client as closing (FIN or RST): its pin lives {@link #CLOSING_SECONDS} from now on. */
    public void closing(long addressKey, long portKey, int now) {
        int slot = slot(addressKey, portKey);
        for (int probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & mask) {
            int expiry = expiries[slot];
            if (expiry == NEVER_USED) {
                return;
            }
            if (addresses[slot] == addressKey && portsAndProtocol[slot] == portKey) {
                closing[slot] = true;
                expiries[slot] = Math.min(expiry, Math.max(1, now + CLOSING_SECONDS));
                return;
            }
        }
    }

    private int slot(long addressKey, long portKey) {
        long h = addressKey * 0x9E3779B97F4A7C15L ^ portKey * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 31;
        return (int) h & mask;
    }
}
