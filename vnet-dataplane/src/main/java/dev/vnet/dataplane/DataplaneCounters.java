package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.Counter;
import dev.vnet.dataplane.counters.Counters;

/** The agent-wide counters: underlay traffic, ARP answers, tokens, and one drop counter per reason. */
public final class DataplaneCounters {
    final Counter underlayRxPackets;
    final Counter underlayRxBytes;
    final Counter underlayTxPackets;
    final Counter underlayTxBytes;
    final Counter arpReplies;
    final Counter tokenRequests;
    final Counter tokenGrants;
    final Counter tokenValidations;
    final Counter tokenCacheHits;
    final Counter returnTokensSent;
    final Counter returnTokensLearned;
    final Counter tsoSuperFrames;
    final Counter tsoSegments;
    final Counter groSegments;
    final Counter groFrames;
    private final Counter[] drops;

    public DataplaneCounters(Counters counters) {
        underlayRxPackets = counters.counter("underlay.rx_packets");
        underlayRxBytes = counters.counter("underlay.rx_bytes");
        underlayTxPackets = counters.counter("underlay.tx_packets");
        underlayTxBytes = counters.counter("underlay.tx_bytes");
        arpReplies = counters.counter("arp.replies");
        tokenRequests = counters.counter("token.requests");
        tokenGrants = counters.counter("token.grants");
        tokenValidations = counters.counter("token.validations");
        tokenCacheHits = counters.counter("token.cache_hits");
        returnTokensSent = counters.counter("token.return_sent");
        returnTokensLearned = counters.counter("token.return_learned");
        tsoSuperFrames = counters.counter("offload.tso_superframes");
        tsoSegments = counters.counter("offload.tso_segments");
        groSegments = counters.counter("offload.gro_segments");
        groFrames = counters.counter("offload.gro_frames");
        DropReason[] reasons = DropReason.values();
        drops = new Counter[reasons.length];
        for (DropReason reason : reasons) {
            drops[reason.ordinal()] = counters.counter(reason.counterName());
        }
    }

    public void drop(DropReason reason) {
        drops[reason.ordinal()].increment();
    }

    public long drops(DropReason reason) {
        return drops[reason.ordinal()].get();
    }
}
