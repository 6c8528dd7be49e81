package dev.vnet.vsock.host;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** What a host's virtual socket devices did, for every VM together; the mapper counts its decisions itself. */
public final class HostCounters {
    final LongAdder sessions = new LongAdder();
    final LongAdder sessionsRefused = new LongAdder();
    final LongAdder socketsCreated = new LongAdder();
    final LongAdder connects = new LongAdder();
    final LongAdder connectFailures = new LongAdder();
    final LongAdder accepts = new LongAdder();
    final LongAdder bytesToGuest = new LongAdder();
    final LongAdder bytesFromGuest = new LongAdder();
    final LongAdder datagramsOut = new LongAdder();
    final LongAdder datagramsIn = new LongAdder();
    final LongAdder datagramsDroppedNoCredit = new LongAdder();
    final LongAdder resolves = new LongAdder();
    /** Every HTTP proxy of every session: requests are what the HTTP handler counts, not connections. */
    final HttpProxy.Counters http = new HttpProxy.Counters();
    private final Map<String, LongAdder> violations = new ConcurrentHashMap<>();

    void violation(String kind) {
        violations.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> values = new TreeMap<>();
        values.put("sessions", sessions.sum());
        values.put("sessions_refused", sessionsRefused.sum());
        values.put("sockets_created", socketsCreated.sum());
        values.put("connects", connects.sum());
        values.put("connect_failures", connectFailures.sum());
        values.put("accepts", accepts.sum());
        values.put("bytes_to_guest", bytesToGuest.sum());
        values.put("bytes_from_guest", bytesFromGuest.sum());
        values.put("datagrams_out", datagramsOut.sum());
        values.put("datagrams_in", datagramsIn.sum());
        values.put("datagrams_dropped_no_credit", datagramsDroppedNoCredit.sum());
        values.put("resolves", resolves.sum());
        http.snapshot().forEach((name, count) -> values.put("http." + name, count));
        violations.forEach((kind, count) -> values.put("violation." + kind, count.sum()));
        return values;
    }
}
