package dev.vnet.registry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A network's gateways in the registry's memory: every gateway process behind the network's ECMP
 * address, and the one key they all verify egress tokens with. Immutable: a change replaces the whole
 * value in {@link NetworkEntry#gateways}, so the token path reads one consistent set without a lock.
 * The key array is never handed out or changed (callers get copies), so its identity can key the
 * per-thread HMAC cache of {@link TokenIssuer}.
 *
 * <p><b>Which gateway a VM's egress goes to: rendezvous hashing</b> (highest random weight, Thaler and
 * Ravishankar 1996). Every gateway gets a weight {@code h(source VM name, gateway name)}; the VM uses the
 * gateway of highest weight (a tie, which needs a 64-bit collision, goes to the lower name). So:
 * <ul>
 *   <li>the choice depends on the two names only: stable for a VM across requests, restarts and
 *       controller nodes, with no state to keep;</li>
 *   <li>VMs spread evenly over the gateways, since each weight is an independent-looking 64-bit value;</li>
 *   <li>adding a gateway moves only the VMs whose weight for it is now the highest (about 1/n of them),
 *       removing one moves only the VMs that used it; the others keep their gateway and its flows.</li>
 * </ul>
 * {@code h} is 64-bit FNV-1a over the VM name, a '/' (which no name contains, so the split between the
 * names is unambiguous), and the gateway name, followed by the MurmurHash3 64-bit finalizer, since
 * FNV-1a alone leaves the high bits of names differing only at the end too alike to compare. Names
 * are ASCII ({@link Names}), hashed a char at a time. Cost: one pass over the VM name, then one over
 * each gateway's name, with no allocation.
 *
 * @param byName the gateways sorted by name; never empty (a network without gateways has none of this)
 */
record NetworkGateways(byte[] key, List<Gateway> byName) {
    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    NetworkGateways {
        if (byName.isEmpty()) {
            throw new IllegalArgumentException("a network's gateway set is never empty; without gateways it has none");
        }
        byName = byName.stream().sorted(Comparator.comparing(Gateway::name)).toList();
    }

    Optional<Gateway> named(String name) {
        for (Gateway gateway : byName) {
            if (gateway.name().equals(name)) {
                return Optional.of(gateway);
            }
        }
        return Optional.empty();
    }

    /** The set with {@code gateway} added, or replacing the one of its name; the same key. */
    NetworkGateways with(Gateway gateway) {
        List<Gateway> gateways = new ArrayList<>(byName);
        gateways.removeIf(g -> g.name().equals(gateway.name()));
        gateways.add(gateway);
        return new NetworkGateways(key, gateways);
    }

    /** The set without the gateway called {@code name}: null when it was the last one. */
    NetworkGateways without(String name) {
        List<Gateway> gateways = byName.stream().filter(g -> !g.name().equals(name)).toList();
        return gateways.isEmpty() ? null : new NetworkGateways(key, gateways);
    }

    /** The gateway {@code sourceVm}'s egress goes to: the highest rendezvous weight (see the class comment). */
    Gateway chosenFor(String sourceVm) {
        long vmHash = vmHash(sourceVm);
        Gateway chosen = null;
        long highest = 0;
        for (Gateway gateway : byName) {
            long weight = weight(vmHash, gateway.name());
            // byName is sorted, so on a tie the earlier (lower) name stays chosen.
            if (chosen == null || Long.compareUnsigned(weight, highest) > 0) {
                chosen = gateway;
                highest = weight;
            }
        }
        return chosen;
    }

    /** {@code h(vm, gateway)} given the FNV-1a state after the VM name and the separator. */
    static long weight(long vmHash, String gatewayName) {
        return finalizeMix(fnv1a(vmHash, gatewayName));
    }

    static long weight(String sourceVm, String gatewayName) {
        return weight(vmHash(sourceVm), gatewayName);
    }

    /** The FNV-1a state after the VM name and the separator, shared by all of that VM's weights. */
    private static long vmHash(String sourceVm) {
        return (fnv1a(FNV_OFFSET_BASIS, sourceVm) ^ '/') * FNV_PRIME;
    }

    private static long fnv1a(long hash, String text) {
        for (int i = 0; i < text.length(); i++) {
            hash = (hash ^ text.charAt(i)) * FNV_PRIME;
        }
        return hash;
    }

    /** MurmurHash3's fmix64: every input bit affects every output bit. */
    private static long finalizeMix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NetworkGateways that && java.util.Arrays.equals(key, that.key) && byName.equals(that.byName);
    }

    @Override
    public int hashCode() {
        return byName.hashCode();
    }

    @Override
    public String toString() {
        return "NetworkGateways[" + byName + " key=" + VmAssignment.KeyFingerprint.of(key) + "]";
    }
}
