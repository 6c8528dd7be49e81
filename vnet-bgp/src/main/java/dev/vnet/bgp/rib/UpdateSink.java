package dev.vnet.bgp.rib;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Where an {@link AdjRibOut} writes its encoded UPDATEs: one Established session. */
public interface UpdateSink {
    boolean isWritable();

    ByteBufAllocator alloc();

    /** Queues encoded UPDATE messages (ownership passes). */
    void send(ByteBuf messages);

    void flush();

    /** Whether the session carries AS numbers in 4 octets. */
    boolean fourOctetAs();
}
