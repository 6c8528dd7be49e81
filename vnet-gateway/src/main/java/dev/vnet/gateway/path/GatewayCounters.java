package dev.vnet.gateway.path;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A gateway's counters: packets and bytes each way, flows, translations, tokens, and every drop by
 * reason. Adders, because both forwarding threads and the token completions count; reading them
 * (for the counters file and tests) sums the cells.
 */
public final class GatewayCounters {
    public final LongAdder publicRxPackets = new LongAdder();
    public final LongAdder publicTxPackets = new LongAdder();
    public final LongAdder underlayRxPackets = new LongAdder();
    public final LongAdder underlayTxPackets = new LongAdder();
    public final LongAdder newFlows = new LongAdder();
    /** Flows whose backend became unhealthy and were mapped anew. */
    public final LongAdder remappedFlows = new LongAdder();
    public final LongAdder flowTableFull = new LongAdder();
    public final LongAdder dnatReplies = new LongAdder();
    public final LongAdder unchangedReplies = new LongAdder();
    public final LongAdder snatTranslations = new LongAdder();
    public final LongAdder snatOutbound = new LongAdder();
    public final LongAdder snatInbound = new LongAdder();
    public final LongAdder probePackets = new LongAdder();
    public final LongAdder tokenRequests = new LongAdder();
    public final LongAdder tokenGrants = new LongAdder();
    public final LongAdder tokenValidations = new LongAdder();
    public final LongAdder tokenCacheHits = new LongAdder();
    private final EnumMap<GatewayDrop, LongAdder> drops = new EnumMap<>(GatewayDrop.class);

    public GatewayCounters() {
        for (GatewayDrop reason : GatewayDrop.values()) {
            drops.put(reason, new LongAdder());
        }
    }

    public void drop(GatewayDrop reason) {
        drops.get(reason).increment();
    }

    public long drops(GatewayDrop reason) {
        return drops.get(reason).sum();
    }

    /** Every counter by name, drops as {@code drop.<reason>}: what the counters file holds. */
    public Map<String, Long> snapshot() {
        Map<String, Long> values = new LinkedHashMap<>();
        values.put("public_rx_packets", publicRxPackets.sum());
        values.put("public_tx_packets", publicTxPackets.sum());
        values.put("underlay_rx_packets", underlayRxPackets.sum());
        values.put("underlay_tx_packets", underlayTxPackets.sum());
        values.put("new_flows", newFlows.sum());
        values.put("remapped_flows", remappedFlows.sum());
        values.put("flow_table_full", flowTableFull.sum());
        values.put("dnat_replies", dnatReplies.sum());
        values.put("unchanged_replies", unchangedReplies.sum());
        values.put("snat_translations", snatTranslations.sum());
        values.put("snat_outbound", snatOutbound.sum());
        values.put("snat_inbound", snatInbound.sum());
        values.put("probe_packets", probePackets.sum());
        values.put("token_requests", tokenRequests.sum());
        values.put("token_grants", tokenGrants.sum());
        values.put("token_validations", tokenValidations.sum());
        values.put("token_cache_hits", tokenCacheHits.sum());
        drops.forEach((reason, count) -> values.put("drop." + reason.name().toLowerCase(), count.sum()));
        return values;
    }
}
