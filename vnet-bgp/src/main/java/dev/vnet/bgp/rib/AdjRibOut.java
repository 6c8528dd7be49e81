package dev.vnet.bgp.rib;

import dev.vnet.bgp.wire.BgpMessage;
import dev.vnet.bgp.wire.PathAttributes;
import dev.vnet.bgp.wire.UpdateWriter;
import dev.vnet.bgp.wire.VpnNlriList;
import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The Adj-RIB-Out of one Established session (RFC 4271 §3.2): what the peer has been told, and the
 * destinations whose best path changed since.
 *
 * <p>Work is a set of destinations, not a queue of messages: a destination that changes ten times before
 * the session can take more data is sent once, with whatever is best by then. {@link #flush} takes up to
 * {@value #BATCH} destinations at a time, asks the {@link ExportPolicy} what each should look like to this
 * peer, groups them by the resulting attribute set and writes each group with {@link UpdateWriter}, as
 * many NLRI per UPDATE as fit; it stops while the socket's buffer is over its high water mark and goes
 * on when it drains ({@link #flush} is called again). A whole-table transfer (session up, route refresh)
 * walks a snapshot of the Loc-RIB's best paths, then the End-of-RIB marker follows.
 *
 * <p>What was sent is kept as the Loc-RIB path it was made from, so "already told" is one identity check
 * and a withdrawal is only sent for what the peer holds.
 */
public final class AdjRibOut {
    static final int BATCH = 4096;

    private final PeerRole role;
    private final UpdateSink sink;
    private final Map<VpnPrefix, Path> advertised = new HashMap<>();
    private final LinkedHashSet<VpnPrefix> pending = new LinkedHashSet<>();
    private Path[] transfer;
    private int transferIndex;
    private boolean endOfRibDue;
    private long updatesSent;
    private final VpnNlriList nlri = new VpnNlriList(256);

    public AdjRibOut(PeerRole role, UpdateSink sink) {
        this.role = role;
        this.sink = sink;
    }

    public PeerRole role() {
        return role;
    }

    /** Routes the peer currently holds from us. */
    public int size() {
        return advertised.size();
    }

    public long updatesSent() {
        return updatesSent;
    }

    /** The destination's best path changed. */
    public void changed(VpnPrefix prefix) {
        pending.add(prefix);
    }

    /** Sends the whole table again (after session up or a route refresh), then End-of-RIB. */
    public void transferTable(Path[] bestPaths) {
        transfer = bestPaths;
        transferIndex = 0;
        endOfRibDue = true;
    }

    public boolean hasWork() {
        return transfer != null || !pending.isEmpty() || endOfRibDue;
    }

    /** Writes as much as the session takes now; returns true when nothing is left. */
    public boolean flush(LocRib locRib, ExportPolicy policy) {
        boolean wrote = false;
        Map<PathAttributes, List<Path>> groups = new HashMap<>();
        VpnNlriList withdrawals = new VpnNlriList(64);
        while (sink.isWritable() && (transfer != null || !pending.isEmpty())) {
            int taken = 0;
            while (transfer != null && taken < BATCH) {
                if (transferIndex == transfer.length) {
                    transfer = null;
                    break;
                }
                VpnPrefix prefix = transfer[transferIndex++].prefix();
                transfer[transferIndex - 1] = null;
                decide(prefix, locRib, policy, groups, withdrawals, true);
                taken++;
            }
            for (Iterator<VpnPrefix> it = pending.iterator(); it.hasNext() && taken < BATCH; taken++) {
                VpnPrefix prefix = it.next();
                it.remove();
                decide(prefix, locRib, policy, groups, withdrawals, false);
            }
            wrote |= write(groups, withdrawals);
            groups.clear();
            withdrawals.clear();
        }
        if (endOfRibDue && transfer == null && pending.isEmpty() && sink.isWritable()) {
            ByteBuf marker = sink.alloc().ioBuffer(32);
            UpdateWriter.writeEndOfRib(marker);
            sink.send(marker);
            endOfRibDue = false;
            wrote = true;
        }
        if (wrote) {
            sink.flush();
        }
        return !hasWork();
    }

    private void decide(VpnPrefix prefix, LocRib locRib, ExportPolicy policy, Map<PathAttributes, List<Path>> groups,
                        VpnNlriList withdrawals, boolean resend) {
        Path best = locRib.best(prefix);
        PathAttributes exported = best == null ? null : policy.export(best, role);
        if (exported == null) {
            if (advertised.remove(prefix) != null) {
                withdrawals.add(prefix.rd(), prefix.address(), prefix.length(), VpnNlriList.WITHDRAW_LABEL_ENTRY);
            }
            return;
        }
        Path previous = advertised.put(prefix, best);
        if (previous == best && !resend) {
            return;
        }
        groups.computeIfAbsent(exported, attributes -> new ArrayList<>()).add(best);
    }

    private boolean write(Map<PathAttributes, List<Path>> groups, VpnNlriList withdrawals) {
        boolean wrote = false;
        if (!withdrawals.isEmpty()) {
            ByteBuf out = sink.alloc().ioBuffer(BgpMessage.MAX_LENGTH * (1 + withdrawals.size() / 250));
            for (int next = 0; next < withdrawals.size(); updatesSent++) {
                next = UpdateWriter.writeWithdraw(out, withdrawals, next);
            }
            sink.send(out);
            wrote = true;
        }
        if (groups.isEmpty()) {
            return wrote;
        }
        ByteBuf attributes = sink.alloc().heapBuffer(256);
        try {
            for (Map.Entry<PathAttributes, List<Path>> group : groups.entrySet()) {
                attributes.clear();
                UpdateWriter.encodeAttributes(group.getKey(), sink.fourOctetAs(), attributes);
                nlri.clear();
                for (Path path : group.getValue()) {
                    VpnPrefix prefix = path.prefix();
                    nlri.add(prefix.rd(), prefix.address(), prefix.length(), path.labelEntry());
                }
                int perMessage = Math.max(1, UpdateWriter.reachRoom(attributes.readableBytes()) / VpnNlriList.MAX_ENCODED_LENGTH);
                ByteBuf out = sink.alloc().ioBuffer(BgpMessage.MAX_LENGTH * (1 + nlri.size() / perMessage));
                for (int next = 0; next < nlri.size(); updatesSent++) {
                    next = UpdateWriter.writeReach(out, attributes, group.getKey().nextHop(), nlri, next);
                }
                sink.send(out);
            }
        } finally {
            attributes.release();
        }
        return true;
    }
}
