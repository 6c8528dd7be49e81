package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpToken;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The token issue path (seed 003, FIG. 4, request 422 to response 426), for VMs' packets and for
 * gateways' ingress packets.
 *
 * <p>A request names the source VM, a destination address and optionally the destination's network. The
 * checks run in this order, and each refusal says which one failed:
 * <ol>
 *   <li>The calling host runs the source VM; else PERMISSION_DENIED "vm X does not run on host Y" (also
 *       when X does not exist, so a host cannot probe for other hosts' VMs). The caller's identity is
 *       its certificate, which stands in for the seed's check of the request's source address.</li>
 *   <li>The destination network: the named one (NOT_FOUND if none has that name) or the source's.</li>
 *   <li>An address outside the source network's subnet goes to one of that network's gateways, chosen
 *       per source VM by rendezvous hashing ({@link NetworkGateways#chosenFor}): the token is keyed with
 *       the network's gateway key, which all its gateways share, over the outside address, and the
 *       grant is the chosen gateway's address and port (kind GATEWAY). No gateway: NOT_FOUND "no
 *       gateway". An address outside a <em>named other</em> network's subnet is NOT_FOUND: gateways
 *       serve their own network's VMs.</li>
 *   <li>No VM has the address in that network: NOT_FOUND.</li>
 *   <li>A destination in another network needs an allow rule source → destination; else
 *       PERMISSION_DENIED "policy denies ...". The same network is always allowed.</li>
 * </ol>
 *
 * <p>Then {@code token = VnpToken(destination key).compute(source host address, source VM port, source VM
 * address, destination address, expiry)} with expiry = now + TTL (or never), and the grant is the
 * destination VM's host address and port (kind VM).
 *
 * <p><b>Ingress tokens</b> ({@link #issueIngress}) are for a gateway carrying an outside address's
 * packets to a VM of a network it serves. The checks, in this order:
 * <ol>
 *   <li>The network exists; else NOT_FOUND.</li>
 *   <li>The caller is one of the network's gateways; else PERMISSION_DENIED "X is not a gateway of
 *       network N".</li>
 *   <li>The source address is outside the network's subnet; else INVALID_ARGUMENT: a gateway speaks
 *       for outside addresses only, and an inside one would let it forge a VM's packets.</li>
 *   <li>A VM of the network has the destination address; else NOT_FOUND.</li>
 * </ol>
 * Then {@code token = VnpToken(destination key).compute(gateway address, gateway port, source address,
 * destination address, expiry)}: the gateway stands where a source host and VM port stand in a VM's
 * token, so the destination host checks it as any other. The grant is the destination VM's host address
 * and port (kind VM).
 *
 * <p>Cost: the lookups are hash-map reads of immutable entries without a lock; the HMAC is
 * {@link VnpToken}, whose prepared key pads and {@code MessageDigest} are cached per thread and per key
 * ({@link #MAX_CACHED_KEYS_PER_THREAD}), because creating a {@code MessageDigest} costs about as much
 * as computing a token.
 */
final class TokenIssuer {
    /** Bounds the per-thread cache; past it the cache starts over, which also drops deleted VMs' keys. */
    static final int MAX_CACHED_KEYS_PER_THREAD = 4096;

    private final Map<String, VmEntry> vms;
    private final Map<String, NetworkEntry> networks;
    private final Map<String, Set<String>> allowedDestinationsBySource;
    private final RegistryConfig config;
    private final ThreadLocal<IdentityHashMap<byte[], VnpToken>> tokensByKey = ThreadLocal.withInitial(IdentityHashMap::new);

    TokenIssuer(Map<String, VmEntry> vms, Map<String, NetworkEntry> networks, Map<String, Set<String>> allowedDestinationsBySource,
                RegistryConfig config) {
        this.vms = vms;
        this.networks = networks;
        this.allowedDestinationsBySource = allowedDestinationsBySource;
        this.config = config;
    }

    TokenGrant issue(String callerHost, String sourceVm, int destinationAddress, String destinationNetwork) {
        if (sourceVm == null || sourceVm.isEmpty()) {
            throw RegistryException.invalid("source vm name is empty");
        }
        VmEntry source = vms.get(sourceVm);
        if (source == null || !source.host().name().equals(callerHost)) {
            throw RegistryException.denied("vm " + sourceVm + " does not run on host " + callerHost);
        }
        NetworkEntry network = source.network();
        if (destinationNetwork != null && !destinationNetwork.isEmpty() && !destinationNetwork.equals(network.network.name())) {
            network = networks.get(destinationNetwork);
            if (network == null) {
                throw RegistryException.notFound("network " + destinationNetwork + " does not exist");
            }
        }
        Vm from = source.vm();
        long expiry = config.expiryOfTokenIssuedNow();
        if (!network.network.subnet().contains(destinationAddress)) {
            if (network != source.network()) {
                throw RegistryException.notFound("no vm with address " + Ipv4Address.toString(destinationAddress) + " in network "
                        + network.network.name() + ": it is outside its subnet " + network.network.subnet());
            }
            NetworkGateways gateways = network.gateways;
            if (gateways == null) {
                throw RegistryException.notFound("no gateway: " + Ipv4Address.toString(destinationAddress) + " is outside network "
                        + network.network.name() + "'s subnet " + network.network.subnet() + " and the network has no gateway");
            }
            Gateway gateway = gateways.chosenFor(sourceVm);
            long token = tokenFor(gateways.key()).compute(source.host().address(), from.port(), from.address(), destinationAddress, expiry);
            return new TokenGrant(gateway.address(), gateway.port(), token, expiry, TokenGrant.Kind.GATEWAY);
        }
        VmEntry destination = network.vmsByAddress.get(destinationAddress);
        if (destination == null) {
            throw RegistryException.notFound("no vm with address " + Ipv4Address.toString(destinationAddress) + " in network " + network.network.name());
        }
        if (network != source.network() && !allowed(sourceVm, destination.vm().name())) {
            throw RegistryException.denied("policy denies vm " + sourceVm + " (network " + from.network() + ") -> vm "
                    + destination.vm().name() + " (network " + destination.vm().network() + "): no allow rule");
        }
        long token = tokenFor(destination.key()).compute(source.host().address(), from.port(), from.address(), destinationAddress, expiry);
        return new TokenGrant(destination.host().address(), destination.vm().port(), token, expiry, TokenGrant.Kind.VM);
    }

    TokenGrant issueIngress(String callerIdentity, String networkName, int sourceAddress, int destinationAddress) {
        if (networkName == null || networkName.isEmpty()) {
            throw RegistryException.invalid("network name is empty");
        }
        NetworkEntry network = networks.get(networkName);
        if (network == null) {
            throw RegistryException.notFound("network " + networkName + " does not exist");
        }
        NetworkGateways gateways = network.gateways;
        Gateway gateway = gateways == null ? null : gateways.named(callerIdentity).orElse(null);
        if (gateway == null) {
            throw RegistryException.denied(callerIdentity + " is not a gateway of network " + networkName);
        }
        Subnet subnet = network.network.subnet();
        if (subnet.contains(sourceAddress)) {
            throw RegistryException.invalid("source address " + Ipv4Address.toString(sourceAddress) + " is inside network " + networkName
                    + "'s subnet " + subnet + ": a gateway speaks for outside addresses only");
        }
        VmEntry destination = network.vmsByAddress.get(destinationAddress);
        if (destination == null) {
            throw RegistryException.notFound("no vm with address " + Ipv4Address.toString(destinationAddress) + " in network " + networkName);
        }
        long expiry = config.expiryOfTokenIssuedNow();
        long token = tokenFor(destination.key()).compute(gateway.address(), gateway.port(), sourceAddress, destinationAddress, expiry);
        return new TokenGrant(destination.host().address(), destination.vm().port(), token, expiry, TokenGrant.Kind.VM);
    }

    private boolean allowed(String source, String destination) {
        Set<String> destinations = allowedDestinationsBySource.get(source);
        return destinations != null && destinations.contains(destination);
    }

    private VnpToken tokenFor(byte[] key) {
        IdentityHashMap<byte[], VnpToken> tokens = tokensByKey.get();
        VnpToken token = tokens.get(key);
        if (token == null) {
            if (tokens.size() >= MAX_CACHED_KEYS_PER_THREAD) {
                tokens.clear();
            }
            token = new VnpToken(key);
            tokens.put(key, token);
        }
        return token;
    }
}
