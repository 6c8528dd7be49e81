package dev.vnet.dataplane;

import dev.vnet.dataplane.sys.PacketBuffer;

/**
 * One virtual network pair: a local source VM and one destination address. The fast path reads the
 * volatile {@link #grant} without locking; everything about getting a token (the request in flight,
 * the last failure, the packets waiting) is guarded by this object's monitor and happens only until a
 * grant exists or when it must be renewed.
 */
final class Vnp {
    static final int QUEUE_CAPACITY = 8;

    final int destination;
    volatile ActiveGrant grant;

    // Guarded by this.
    boolean requestInFlight;
    DropReason lastFailure;
    long retryAtSeconds;
    private PacketBuffer[] queue;
    private final int[] queuedIndexes = new int[QUEUE_CAPACITY];
    private final int[] queuedLengths = new int[QUEUE_CAPACITY];
    private final int[] queuedFlags = new int[QUEUE_CAPACITY];
    private int queued;

    Vnp(int destination) {
        this.destination = destination;
    }

    /** Copies a waiting IPv4 packet (with headroom for the VNP header); false when the queue is full. */
    boolean enqueue(PacketBuffer packet, int ipIndex, int ipLength, int vnpFlags, int slotCapacity) {
        if (queued == QUEUE_CAPACITY) {
            return false;
        }
        if (queue == null) {
            queue = new PacketBuffer[QUEUE_CAPACITY];
        }
        if (queue[queued] == null) {
            queue[queued] = PacketBuffer.allocate(slotCapacity);
        }
        PacketBuffer slot = queue[queued];
        int index = OutboundForwarder.IP_HEADROOM;
        slot.segment().asSlice(index, ipLength).copyFrom(packet.segment().asSlice(ipIndex, ipLength));
        queuedIndexes[queued] = index;
        queuedLengths[queued] = ipLength;
        queuedFlags[queued] = vnpFlags;
        queued++;
        return true;
    }

    int queued() {
        return queued;
    }

    PacketBuffer queuedPacket(int i) {
        return queue[i];
    }

    int queuedIndex(int i) {
        return queuedIndexes[i];
    }

    int queuedLength(int i) {
        return queuedLengths[i];
    }

    int queuedFlags(int i) {
        return queuedFlags[i];
    }

    void clearQueue() {
        queued = 0;
    }
}
