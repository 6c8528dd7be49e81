package dev.vnet.gateway.path;

import dev.vnet.dataplane.sys.PacketBuffer;
import dev.vnet.dataplane.sys.UdpSocket;
import dev.vnet.wire.VnpHeader;

import org.agrona.concurrent.EpochClock;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The gateway's ingress tokens, one per (network, outside source, VM), fetched from the registry and
 * cached until 80 % of their life, when the next packet starts a renewal and keeps using the current
 * token meanwhile (as the agent does for its pairs).
 *
 * <h2>Cache</h2>
 * A fixed array of immutable {@link Grant}s, open addressing over at most {@value #MAX_PROBES} slots.
 * Reads are lock-free (a volatile array read and field compares, no allocation); installs overwrite a
 * matching, empty or, when the probe window is full, the first slot (it is a cache: an evicted grant
 * only costs a registry request).
 *
 * <h2>Misses</h2>
 * The packet is copied into a small per-key queue ({@value #MAX_QUEUED} packets) and one request goes
 * out; when the grant arrives the completing thread sends the queue in order through the
 * {@link Sender}. A refusal or an unreachable registry drops the queue (counted) and holds further
 * packets' requests back for a pause, so a flood to a VM the registry will not admit does not become
 * a flood of requests. This path allocates; the hit path does not.
 *
 * <h2>Where each VM is</h2>
 * Every grant installed names a VM's host address and port, told by the registry or by a packet whose
 * token verified; {@link #vmAt} remembers which VM that (host, port) is, so that a packet an
 * unchanged-mode backend sends from the VIP can be verified over the VM's own address.
 */
public final class IngressTokens {
    static final int SLOTS = 1 << 16;
    static final int MAX_PROBES = 8;
    static final int MAX_QUEUED = 8;
    /** Keys waiting for (or recently refused) a token; beyond this new keys are dropped at once. */
    static final int MAX_WAITING_KEYS = 1 << 16;
    /** Bound of the (host, port) → VM index. */
    static final int MAX_KNOWN_VMS = 1 << 16;
    /** {@link #vmAt} of a (host, port) no grant named. */
    public static final int UNKNOWN_VM = 0;
    private static final long REFUSAL_PAUSE_SECONDS = 5;
    private static final long UNAVAILABLE_PAUSE_SECONDS = 1;

    /** What the completing thread uses to send packets that waited for a grant. */
    public interface Sender {
        /** Sends the IPv4 packet at {@code index} (with VNP headroom before it) towards the grant's VM. */
        void sendQueued(Grant grant, PacketBuffer packet, int index, int length, boolean returnToken);
    }

    /** One cached token: immutable, so readers need no lock. */
    public static final class Grant {
        final long networkId;
        final int source;
        final int destination;
        public final int hostAddress;
        public final int port;
        public final long token;
        public final long expiry;
        public final MemorySegment socketAddress;
        final long refreshAt;
        final AtomicBoolean renewing = new AtomicBoolean();

        Grant(long networkId, int source, int destination, IngressTokenSource.IngressGrant grant, long now) {
            this.networkId = networkId;
            this.source = source;
            this.destination = destination;
            this.hostAddress = grant.hostAddress();
            this.port = grant.port();
            this.token = grant.token();
            this.expiry = grant.expiry();
            this.socketAddress = UdpSocket.socketAddress(Arena.ofAuto(), grant.hostAddress(), grant.port());
            long life = Math.max(0, expiry - now);
            this.refreshAt = now + life * 8 / 10;
        }

        boolean matches(long networkId, int source, int destination) {
            return this.destination == destination && this.source == source && this.networkId == networkId;
        }

        boolean usableAt(long now) {
            return expiry == 0xFFFF_FFFFL || now < expiry;
        }
    }

    private record Key(long networkId, int source, int destination) {
    }

    private static final class Waiting {
        final PacketBuffer[] packets = new PacketBuffer[MAX_QUEUED];
        final int[] lengths = new int[MAX_QUEUED];
        final boolean[] returnTokens = new boolean[MAX_QUEUED];
        int count;
        boolean inFlight;
        GatewayDrop lastFailure;
        long retryAt;
    }

    private final AtomicReferenceArray<Grant> slots = new AtomicReferenceArray<>(SLOTS);
    private final ConcurrentHashMap<Key, Waiting> waiting = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Integer> vmAtHostPort = new ConcurrentHashMap<>();
    private final IngressTokenSource source;
    private final GatewayCounters counters;
    private final int headroom;
    private final EpochClock clock;

    /** @param headroom bytes to leave before each queued packet (the VNP header goes there) */
    public IngressTokens(IngressTokenSource source, GatewayCounters counters, int headroom, EpochClock clock) {
        this.clock = clock;
        this.source = source;
        this.counters = counters;
        this.headroom = headroom;
    }

    /** The usable grant, or null. Starts a renewal when due. Allocates nothing unless a renewal starts. */
    public Grant get(long networkId, int source, int destination, long now) {
        int slot = slot(networkId, source, destination);
        for (int probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & (SLOTS - 1)) {
            Grant grant = slots.get(slot);
            if (grant == null) {
                return null;
            }
            if (grant.matches(networkId, source, destination)) {
                if (!grant.usableAt(now)) {
                    return null;
                }
                if (now >= grant.refreshAt && grant.renewing.compareAndSet(false, true)) {
                    renew(grant, now);
                }
                return grant;
            }
        }
        return null;
    }

    /**
     * Queues a copy of the packet until the grant for (network, source, destination) arrives, asking
     * for it unless a request is already out. Drops (counted) when the queue is full or the last
     * request failed less than a pause ago.
     */
    public void await(long networkId, int source, int destination, PacketBuffer packet, int index, int length,
                      boolean returnToken, long now, Sender sender) {
        Key key = new Key(networkId, source, destination);
        Waiting queue = waiting.get(key);
        if (queue == null) {
            if (waiting.size() >= MAX_WAITING_KEYS) {
                forgetFailuresBefore(now);
            }
            if (waiting.size() >= MAX_WAITING_KEYS) {
                counters.drop(GatewayDrop.TOKEN_QUEUE_FULL); // bounded: a spoofed-source flood must not grow it
                return;
            }
            queue = waiting.computeIfAbsent(key, k -> new Waiting());
        }
        boolean ask;
        synchronized (queue) {
            Grant arrived = get(networkId, source, destination, now);
            if (arrived != null) {
                sender.sendQueued(arrived, packet, index, length, returnToken);
                return;
            }
            if (!queue.inFlight && queue.lastFailure != null && now < queue.retryAt) {
                counters.drop(queue.lastFailure);
                return;
            }
            if (queue.count == MAX_QUEUED) {
                counters.drop(GatewayDrop.TOKEN_QUEUE_FULL);
            } else {
                PacketBuffer copy = PacketBuffer.allocate(headroom + length + VnpHeader.RETURN_TOKEN_OPTION_LENGTH);
                copy.buffer().put(headroom, packet.buffer(), index, length);
                queue.packets[queue.count] = copy;
                queue.lengths[queue.count] = length;
                queue.returnTokens[queue.count] = returnToken;
                queue.count++;
            }
            ask = !queue.inFlight;
            queue.inFlight = true;
        }
        Waiting waiter = queue;
        if (ask) {
            counters.tokenRequests.increment();
            this.source.request(networkId, source, destination)
                    .whenComplete((grant, failure) -> complete(key, waiter, grant, failure, sender));
        }
    }

    private void complete(Key key, Waiting queue, IngressTokenSource.IngressGrant answer, Throwable failure, Sender sender) {
        long now = clock.time() / 1000;
        synchronized (queue) {
            queue.inFlight = false;
            if (answer != null) {
                counters.tokenGrants.increment();
                Grant grant = new Grant(key.networkId(), key.source(), key.destination(), answer, now);
                install(grant);
                for (int i = 0; i < queue.count; i++) {
                    sender.sendQueued(grant, queue.packets[i], headroom, queue.lengths[i], queue.returnTokens[i]);
                    queue.packets[i] = null;
                }
                queue.count = 0;
                queue.lastFailure = null;
                waiting.remove(key, queue);
                return;
            }
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            boolean refused = cause instanceof IngressTokenSource.IngressRefusedException;
            queue.lastFailure = refused ? GatewayDrop.TOKEN_REFUSED : GatewayDrop.REGISTRY_UNAVAILABLE;
            queue.retryAt = now + (refused ? REFUSAL_PAUSE_SECONDS : UNAVAILABLE_PAUSE_SECONDS);
            for (int i = 0; i < queue.count; i++) {
                counters.drop(queue.lastFailure);
                queue.packets[i] = null;
            }
            queue.count = 0;
        }
    }

    /** Drops the keys whose last request failed and whose pause is over: they hold no packets. */
    private void forgetFailuresBefore(long now) {
        waiting.values().removeIf(queue -> {
            synchronized (queue) {
                return !queue.inFlight && queue.count == 0 && queue.lastFailure != null && queue.retryAt <= now;
            }
        });
    }

    private void renew(Grant current, long now) {
        counters.tokenRequests.increment();
        source.request(current.networkId, current.source, current.destination).whenComplete((answer, failure) -> {
            if (answer != null) {
                counters.tokenGrants.increment();
                install(new Grant(current.networkId, current.source, current.destination, answer, clock.time() / 1000));
            } else {
                current.renewing.set(false); // the next packet tries again; the current token still works
            }
        });
    }

    /**
     * Adopts the return token a VM sent along with a packet to an outside address: it is exactly the
     * ingress token for (network, that outside address, the VM), so replies need no registry request.
     * Allocates only when the token is new.
     */
    public void learn(long networkId, int outside, int vm, int hostAddress, int port, long token, long expiry, long now) {
        Grant current = get(networkId, outside, vm, now);
        if (current != null && current.token == token && current.hostAddress == hostAddress && current.port == port
                && current.expiry == expiry) {
            return;
        }
        install(new Grant(networkId, outside, vm, new IngressTokenSource.IngressGrant(hostAddress, port, token, expiry), now));
    }

    /**
     * The VM at {@code hostAddress:port} as the last grant for it said, or {@link #UNKNOWN_VM}: used only
     * when a token is not yet in the validation cache, so the boxing here is off the per-packet path.
     */
    public int vmAt(int hostAddress, int port) {
        Integer vm = vmAtHostPort.get(hostPortKey(hostAddress, port));
        return vm == null ? UNKNOWN_VM : vm;
    }

    private static long hostPortKey(int hostAddress, int port) {
        return ((long) hostAddress << 32) | (port & 0xFFFF_FFFFL);
    }

    /** Puts a grant in the cache (also used by tests). */
    public void install(Grant grant) {
        long hostPort = hostPortKey(grant.hostAddress, grant.port);
        Integer known = vmAtHostPort.get(hostPort);
        if (known == null || known != grant.destination) {
            if (vmAtHostPort.size() >= MAX_KNOWN_VMS) {
                vmAtHostPort.clear(); // relearned from the next grants; bounds what spoofed sources could cost
            }
            vmAtHostPort.put(hostPort, grant.destination);
        }
        int first = slot(grant.networkId, grant.source, grant.destination);
        int slot = first;
        for (int probe = 0; probe < MAX_PROBES; probe++, slot = (slot + 1) & (SLOTS - 1)) {
            Grant existing = slots.get(slot);
            if (existing == null || existing.matches(grant.networkId, grant.source, grant.destination)) {
                slots.set(slot, grant);
                return;
            }
        }
        slots.set(first, grant);
    }

    /** Forgets every grant: the gateway's underlay address or port changed, so they no longer verify. */
    public void clear() {
        for (int i = 0; i < SLOTS; i++) {
            slots.set(i, null);
        }
        vmAtHostPort.clear();
    }

    private static int slot(long networkId, int source, int destination) {
        long h = (((long) source << 32) | (destination & 0xFFFF_FFFFL)) * 0x9E3779B97F4A7C15L ^ networkId * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 29;
        return (int) h & (SLOTS - 1);
    }
}
