package dev.vnet.vsock.mapper;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of the socket mapper's decisions. LongAdders, because every offloaded command of every VM
 * counts here from its own thread. {@link #snapshot()} names them:
 * <pre>
 *   allowed, denied                       all decisions
 *   denied.acl_rule, denied.default, denied.no_policy,
 *   denied.rewrite_invalid, denied.handler_disabled    denials by reason
 *   rewritten                             allowed commands whose URI a rewrite changed
 *   handler.tcp, .udp, .dns, .http        allowed commands by handler
 *   vm.NAME.allowed, vm.NAME.denied       per VM
 * </pre>
 */
public final class MapperCounters {
    private final LongAdder allowed = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder rewritten = new LongAdder();
    private final Map<Decision.Reason.Kind, LongAdder> deniedBy = adders(Decision.Reason.Kind.class);
    private final Map<HandlerKind, LongAdder> handled = adders(HandlerKind.class);
    private final Map<String, VmCounts> perVm = new ConcurrentHashMap<>();

    private record VmCounts(LongAdder allowed, LongAdder denied) {
    }

    void count(String vm, Decision decision, boolean wasRewritten) {
        VmCounts vmCounts = perVm.computeIfAbsent(vm, name -> new VmCounts(new LongAdder(), new LongAdder()));
        if (decision.allowed()) {
            allowed.increment();
            vmCounts.allowed().increment();
            handled.get(decision.handler()).increment();
            if (wasRewritten) {
                rewritten.increment();
            }
        } else {
            denied.increment();
            vmCounts.denied().increment();
            deniedBy.get(decision.reason().kind()).increment();
        }
    }

    /** Every counter by name, in name order; a sum of each adder, so concurrent counts may land on either side. */
    public Map<String, Long> snapshot() {
        Map<String, Long> snapshot = new TreeMap<>();
        snapshot.put("allowed", allowed.sum());
        snapshot.put("denied", denied.sum());
        snapshot.put("rewritten", rewritten.sum());
        deniedBy.forEach((kind, adder) -> snapshot.put("denied." + kind.text(), adder.sum()));
        handled.forEach((kind, adder) -> snapshot.put("handler." + kind.text(), adder.sum()));
        perVm.forEach((vm, counts) -> {
            snapshot.put("vm." + vm + ".allowed", counts.allowed().sum());
            snapshot.put("vm." + vm + ".denied", counts.denied().sum());
        });
        return snapshot;
    }

    private static <K extends Enum<K>> Map<K, LongAdder> adders(Class<K> keys) {
        Map<K, LongAdder> adders = new EnumMap<>(keys);
        for (K key : keys.getEnumConstants()) {
            adders.put(key, new LongAdder());
        }
        return adders;
    }
}
