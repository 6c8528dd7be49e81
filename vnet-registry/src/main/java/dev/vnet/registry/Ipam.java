package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;

import java.util.NavigableSet;
import java.util.function.LongFunction;

/**
 * Assignment of VM addresses (IPAM), host ports, network ids and MACs: always the lowest free value of
 * a range.
 *
 * <p><b>Addresses.</b> Offset 0 of a subnet (its network address) and its last offset (broadcast) are
 * never assigned, nor is offset {@link #RESERVED_GATEWAY_OFFSET} (.1 in 10.0.0.0/24), which is kept for
 * the subnet's gateway (every VM's default route points at it; the agent answers its ARP and the
 * registry routes what leaves the subnet); so VMs get offsets 2 to size-2. A requested
 * address is used when it is one of those and free; otherwise the request is refused with the reason
 * (outside the subnet, reserved, or which VM has it), because an operator who names an address has
 * configured it somewhere and a silently different one would not work. Without a request, the VM gets
 * the lowest free offset. Subnets of different networks may overlap: each network has its own set.
 *
 * <p><b>Lowest free.</b> The values in use are kept sorted (per network for address offsets, per host for
 * ports, VM and gateway ports together; one registry-wide set for network ids and MAC suffixes); the
 * walk goes up from the first value of the range and stops at the first value the set does not hold:
 * O(values in use). Lowest-first keeps assignments dense and predictable (the first VM of 10.0.0.0/24
 * is 10.0.0.2, the first VM port of a host 47901) and reuses what deleted VMs freed.
 *
 * <p>Callers hold the registry's mutation lock, so two requests can never be given the same value.
 */
public final class Ipam {
    /** Offset of the address kept free in every subnet for its gateway (x.x.x.1 in a /24). */
    static final long RESERVED_GATEWAY_OFFSET = 1;
    /** {@link #subnetGateway} of a subnet too small to keep a gateway address. */
    public static final int NO_GATEWAY = 0;
    /** VM MACs are {@code 02:56:4e:xx:xx:xx}: locally administered (bit 41), unicast, "VN" in ASCII. */
    static final long MAC_PREFIX = 0x0256_4E00_0000L;
    static final long MAC_SUFFIX_LAST = 0xFF_FFFFL;

    private Ipam() {
    }

    /**
     * The gateway address of the subnet that {@code address}/{@code prefixLength} is in (its first host
     * address), or {@link #NO_GATEWAY} for a /31 or /32, which have no room for one.
     */
    public static int subnetGateway(int address, int prefixLength) {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not 0-32");
        }
        if (prefixLength > 30) {
            return NO_GATEWAY;
        }
        int mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
        return (address & mask) + (int) RESERVED_GATEWAY_OFFSET;
    }

    /** @return the lowest value in {@code [first, last]} not in {@code used}, or -1 when all are */
    public static long lowestFree(NavigableSet<Long> used, long first, long last) {
        long candidate = first;
        for (long value : used.tailSet(first, true)) {
            if (value != candidate || candidate > last) {
                break;
            }
            candidate++;
        }
        return candidate <= last ? candidate : -1;
    }

    /**
     * The offset into {@code subnet} for a new VM of {@code network}.
     *
     * @param requested the address asked for, or null for the lowest free
     * @param userOf    names the VM using an offset, for the refusal
     */
    static long assignAddress(String network, Subnet subnet, NavigableSet<Long> usedOffsets, Integer requested, LongFunction<String> userOf) {
        long last = subnet.size() - 2;
        if (requested == null) {
            long offset = lowestFree(usedOffsets, RESERVED_GATEWAY_OFFSET + 1, last);
            if (offset < 0) {
                throw RegistryException.exhausted("network " + network + " has no free address in " + subnet);
            }
            return offset;
        }
        String text = Ipv4Address.toString(requested);
        if (!subnet.contains(requested)) {
            throw RegistryException.invalid("address " + text + " is outside network " + network + "'s subnet " + subnet);
        }
        long offset = subnet.offsetOf(requested);
        if (offset == 0 || offset == subnet.size() - 1) {
            throw RegistryException.invalid("address " + text + " is the " + (offset == 0 ? "network" : "broadcast") + " address of " + subnet);
        }
        if (offset == RESERVED_GATEWAY_OFFSET) {
            throw RegistryException.invalid("address " + text + " is reserved for the gateway of " + subnet);
        }
        if (usedOffsets.contains(offset)) {
            throw RegistryException.alreadyExists("address " + text + " in network " + network + " is already used by vm " + userOf.apply(offset));
        }
        return offset;
    }
}
