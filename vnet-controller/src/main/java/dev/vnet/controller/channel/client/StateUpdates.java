package dev.vnet.controller.channel.client;

import dev.vnet.controller.channel.ChannelMessages;
import dev.vnet.controller.channel.HostState;
import dev.vnet.controller.channel.HostStateDiff;
import dev.vnet.controller.channel.LayeredMap;
import dev.vnet.controller.channel.MapDiff;
import dev.vnet.controller.channel.Route;
import dev.vnet.controller.channel.RouteKey;
import dev.vnet.controller.channel.VmAttachment;
import dev.vnet.controller.channel.proto.StateUpdate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Turns an update from the controller into the agent's next state and the exact difference from the
 * state it held. A full update is the whole next state; a delta is applied to the held state, and its
 * diff is worked out from the entries it names alone (an upsert equal to what is held is no change).
 */
final class StateUpdates {
    private StateUpdates() {
    }

    static HostStateChange apply(HostState held, StateUpdate update) {
        HostState next;
        HostStateDiff diff;
        if (update.getFull()) {
            Map<String, VmAttachment> attachments = new HashMap<>();
            update.getUpsertedAttachmentsList().forEach(message -> {
                VmAttachment attachment = ChannelMessages.fromMessage(message);
                attachments.put(attachment.vmId(), attachment);
            });
            Map<RouteKey, Route> routes = new HashMap<>();
            update.getUpsertedRoutesList().forEach(message -> {
                Route route = ChannelMessages.fromMessage(message);
                routes.put(route.key(), route);
            });
            next = new HostState(held.host(), keepIfEqual(held.attachmentsByVmId(), attachments), keepIfEqual(held.routes(), routes));
            diff = HostStateDiff.between(held, next);
        } else {
            Applied<String, VmAttachment> attachments = applyDelta(held.attachmentsByVmId(),
                    update.getUpsertedAttachmentsList().stream().map(ChannelMessages::fromMessage).toList(),
                    update.getRemovedAttachmentVmIdsList(), VmAttachment::vmId);
            Applied<RouteKey, Route> routes = applyDelta(held.routes(),
                    update.getUpsertedRoutesList().stream().map(ChannelMessages::fromMessage).toList(),
                    update.getRemovedRoutesList().stream().map(ChannelMessages::fromMessage).toList(), Route::key);
            next = new HostState(held.host(), attachments.map, routes.map);
            diff = new HostStateDiff(attachments.diff, routes.diff);
        }
        return new HostStateChange(held, next, update.getVersion(), update.getFull(), diff);
    }

    /** The held map itself when the new one is equal: nothing to copy, and the next diff is free. */
    private static <K, V> Map<K, V> keepIfEqual(Map<K, V> held, Map<K, V> received) {
        return held.equals(received) ? held : received;
    }

    private record Applied<K, V>(Map<K, V> map, MapDiff<V> diff) {
    }

    /**
     * The held map with the delta applied, as a layered copy (a delta of one route to a network of
     * thousands must not copy them all), and the diff, from the keys the delta names. The controller
     * never names a key both in a delta's upserts and its removals.
     */
    private static <K, V> Applied<K, V> applyDelta(Map<K, V> held, List<V> upserts, List<K> removals, Function<V, K> keyOf) {
        if (upserts.isEmpty() && removals.isEmpty()) {
            return new Applied<>(held, MapDiff.none());
        }
        Map<K, V> upsertsByKey = new LinkedHashMap<>();
        List<V> added = new ArrayList<>();
        List<V> changed = new ArrayList<>();
        for (V value : upserts) {
            K key = keyOf.apply(value);
            upsertsByKey.put(key, value);
            V old = held.get(key);
            if (old == null) {
                added.add(value);
            } else if (!old.equals(value)) {
                changed.add(value);
            }
        }
        List<V> removed = new ArrayList<>();
        for (K key : removals) {
            V old = held.get(key);
            if (old != null) {
                removed.add(old);
            }
        }
        return new Applied<>(LayeredMap.of(held).with(upsertsByKey, removals), new MapDiff<>(added, removed, changed));
    }
}
