package dev.vnet.controller.channel;

import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A VM that runs on a host, as that host's agent needs it: where the VM sits in its network, the UDP
 * port its host reserved for it, and its secret key (the agent verifies the tokens of packets sent to
 * the VM with it). Only the VM's own host is ever sent the key.
 *
 * @param networkId    the VM's virtual network, 1 to 2^32-1
 * @param address      its IPv4 address ({@link Ipv4Address} int form)
 * @param prefixLength of its subnet, 0-32
 * @param mac          48 bits ({@link MacAddress} long form)
 * @param hostPort     the UDP port on its host for its VNP traffic
 * @param key          {@value #KEY_LENGTH} bytes; copied in and out, compared by content
 * @param additionalAddresses further IPv4 addresses the VM owns (the registry's allowed address pairs, e.g. a
 *                     load balancer VIP it holds itself), kept in ascending unsigned order without duplicates
 *                     (so two attachments with the same set are equal); never null
 */
public record VmAttachment(String vmId, String vmName, String project, long networkId, int address, int prefixLength,
                           long mac, int hostPort, byte[] key, List<Integer> additionalAddresses) {
    public static final int KEY_LENGTH = 32;

    /** A VM without additional addresses. */
    public VmAttachment(String vmId, String vmName, String project, long networkId, int address, int prefixLength,
                        long mac, int hostPort, byte[] key) {
        this(vmId, vmName, project, networkId, address, prefixLength, mac, hostPort, key, List.of());
    }

    public VmAttachment {
        Objects.requireNonNull(vmId, "vmId");
        Objects.requireNonNull(vmName, "vmName");
        Objects.requireNonNull(project, "project");
        RouteKey.checkNetworkId(networkId);
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not 0-32");
        }
        Route.checkPort(hostPort);
        if (key == null || key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("a VM key is " + KEY_LENGTH + " bytes; got " + (key == null ? "none" : key.length));
        }
        key = key.clone();
        additionalAddresses = additionalAddresses == null ? List.of()
                : additionalAddresses.stream().map(Objects::requireNonNull).distinct().sorted(Integer::compareUnsigned).toList();
    }

    /** The same attachment owning {@code addresses} (and no others) besides its own address. */
    public VmAttachment withAdditionalAddresses(List<Integer> addresses) {
        return new VmAttachment(vmId, vmName, project, networkId, address, prefixLength, mac, hostPort, key, addresses);
    }

    /** Whether {@code other} is this attachment except, at most, for its additional addresses. */
    public boolean differsOnlyInAdditionalAddresses(VmAttachment other) {
        return equals(other.withAdditionalAddresses(additionalAddresses));
    }

    /** The additional addresses as an array, for the data plane. */
    public int[] additionalAddressArray() {
        return additionalAddresses.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A copy: the record stays immutable. */
    @Override
    public byte[] key() {
        return key.clone();
    }

    public RouteKey routeKey() {
        return new RouteKey(networkId, address);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof VmAttachment that
                && vmId.equals(that.vmId) && vmName.equals(that.vmName) && project.equals(that.project)
                && networkId == that.networkId && address == that.address && prefixLength == that.prefixLength
                && mac == that.mac && hostPort == that.hostPort && Arrays.equals(key, that.key)
                && additionalAddresses.equals(that.additionalAddresses);
    }

    @Override
    public int hashCode() {
        return Objects.hash(vmId, vmName, project, networkId, address, prefixLength, mac, hostPort, Arrays.hashCode(key), additionalAddresses);
    }

    /** Never shows the key. */
    @Override
    public String toString() {
        return "VmAttachment[" + vmId + " " + project + "/" + vmName + " net " + networkId + " " + Ipv4Address.toString(address)
                + "/" + prefixLength
                + (additionalAddresses.isEmpty() ? "" : additionalAddresses.stream().map(Ipv4Address::toString)
                        .collect(Collectors.joining(",", " +", "")))
                + " " + MacAddress.toString(mac) + " port " + hostPort + "]";
    }
}
