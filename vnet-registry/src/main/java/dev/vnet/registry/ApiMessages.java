package dev.vnet.registry;

import com.google.protobuf.ByteString;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.MacAddress;

import java.time.Duration;
import java.util.List;

/**
 * Conversion between the registry's Java types and the gRPC messages ({@code dev.vnet.registry.api}),
 * shared by the server and {@link dev.vnet.registry.client.RegistryClient} so both read the wire the same
 * way. Messages from the wire are trusted to come from the registry: the client does not re-validate.
 */
public final class ApiMessages {
    private ApiMessages() {
    }

    public static dev.vnet.registry.api.Network toMessage(Network network) {
        return dev.vnet.registry.api.Network.newBuilder().setName(network.name()).setId((int) network.id())
                .setSubnet(network.subnet().toString()).build();
    }

    public static Network fromMessage(dev.vnet.registry.api.Network message) {
        return new Network(message.getName(), Integer.toUnsignedLong(message.getId()), Subnet.parse(message.getSubnet()));
    }

    public static dev.vnet.registry.api.Host toMessage(Host host) {
        return dev.vnet.registry.api.Host.newBuilder().setName(host.name()).setAddress(Ipv4Address.toString(host.address())).build();
    }

    public static Host fromMessage(dev.vnet.registry.api.Host message) {
        return new Host(message.getName(), Ipv4Address.parse(message.getAddress()));
    }

    public static dev.vnet.registry.api.Vm toMessage(Vm vm) {
        return dev.vnet.registry.api.Vm.newBuilder().setName(vm.name()).setNetwork(vm.network()).setNetworkId((int) vm.networkId())
                .setHost(vm.host()).setAddress(Ipv4Address.toString(vm.address())).setMac(MacAddress.toString(vm.mac()))
                .setPort(vm.port()).addAllAdditionalAddresses(texts(vm.additionalAddresses())).build();
    }

    public static Vm fromMessage(dev.vnet.registry.api.Vm message) {
        return new Vm(message.getName(), message.getNetwork(), Integer.toUnsignedLong(message.getNetworkId()), message.getHost(),
                Ipv4Address.parse(message.getAddress()), MacAddress.parse(message.getMac()), message.getPort(),
                addresses(message.getAdditionalAddressesList()));
    }

    /** Addresses in text form, for the repeated address fields. */
    public static List<String> texts(List<Integer> addresses) {
        return addresses.stream().map(Ipv4Address::toString).toList();
    }

    /** Addresses from their text form; an unparsable one throws IllegalArgumentException. */
    public static List<Integer> addresses(List<String> texts) {
        return texts.stream().map(Ipv4Address::parse).toList();
    }

    public static dev.vnet.registry.api.AllowRule toMessage(AllowRule rule) {
        return dev.vnet.registry.api.AllowRule.newBuilder().setSourceVm(rule.sourceVm()).setDestinationVm(rule.destinationVm()).build();
    }

    public static AllowRule fromMessage(dev.vnet.registry.api.AllowRule message) {
        return new AllowRule(message.getSourceVm(), message.getDestinationVm());
    }

    public static dev.vnet.registry.api.Gateway toMessage(Gateway gateway) {
        return dev.vnet.registry.api.Gateway.newBuilder().setNetwork(gateway.network()).setName(gateway.name())
                .setAddress(Ipv4Address.toString(gateway.address())).setPort(gateway.port()).build();
    }

    public static Gateway fromMessage(dev.vnet.registry.api.Gateway message) {
        return new Gateway(message.getNetwork(), message.getName(), Ipv4Address.parse(message.getAddress()), message.getPort());
    }

    public static dev.vnet.registry.api.TokenGrant toMessage(TokenGrant grant) {
        return dev.vnet.registry.api.TokenGrant.newBuilder().setDestinationHost(Ipv4Address.toString(grant.destinationHost()))
                .setDestinationPort(grant.destinationPort()).setToken(grant.token()).setExpiry((int) grant.expiry())
                .setKind(grant.kind() == TokenGrant.Kind.VM ? dev.vnet.registry.api.TokenGrant.Kind.VM : dev.vnet.registry.api.TokenGrant.Kind.GATEWAY)
                .build();
    }

    public static TokenGrant fromMessage(dev.vnet.registry.api.TokenGrant message) {
        TokenGrant.Kind kind = switch (message.getKind()) {
            case VM -> TokenGrant.Kind.VM;
            case GATEWAY -> TokenGrant.Kind.GATEWAY;
            default -> throw new IllegalArgumentException("token grant of unknown kind " + message.getKind());
        };
        return new TokenGrant(Ipv4Address.parse(message.getDestinationHost()), message.getDestinationPort(), message.getToken(),
                Integer.toUnsignedLong(message.getExpiry()), kind);
    }

    public static dev.vnet.registry.api.HostAssignments toMessage(HostAssignments assignments) {
        dev.vnet.registry.api.HostAssignments.Builder message = dev.vnet.registry.api.HostAssignments.newBuilder()
                .setHost(assignments.host())
                .setAddress(assignments.address() == 0 ? "" : Ipv4Address.toString(assignments.address()))
                .setTokenTtlSeconds(assignments.tokenTtl().equals(RegistryConfig.TOKENS_NEVER_EXPIRE) ? 0 : (int) assignments.tokenTtl().getSeconds())
                .setClockSkewSeconds((int) assignments.clockSkew().getSeconds());
        for (VmAssignment vm : assignments.vms()) {
            Vm v = vm.vm();
            message.addVms(dev.vnet.registry.api.VmAssignment.newBuilder().setName(v.name()).setNetwork(v.network())
                    .setNetworkId((int) v.networkId()).setSubnet(vm.subnet().toString()).setAddress(Ipv4Address.toString(v.address()))
                    .setMac(MacAddress.toString(v.mac())).setPort(v.port()).setKey(ByteString.copyFrom(vm.key()))
                    .addAllAdditionalAddresses(texts(v.additionalAddresses())));
        }
        for (GatewayAssignment gateway : assignments.gateways()) {
            var g = dev.vnet.registry.api.GatewayAssignment.newBuilder().setNetwork(gateway.gateway().network())
                    .setNetworkId((int) gateway.networkId()).setSubnet(gateway.subnet().toString())
                    .setAddress(Ipv4Address.toString(gateway.gateway().address())).setPort(gateway.gateway().port())
                    .setKey(ByteString.copyFrom(gateway.key()));
            message.addGateways(g);
        }
        return message.build();
    }

    public static HostAssignments fromMessage(dev.vnet.registry.api.HostAssignments message) {
        var vms = message.getVmsList().stream().map(v -> new VmAssignment(
                new Vm(v.getName(), v.getNetwork(), Integer.toUnsignedLong(v.getNetworkId()), message.getHost(), Ipv4Address.parse(v.getAddress()),
                        MacAddress.parse(v.getMac()), v.getPort(), addresses(v.getAdditionalAddressesList())),
                Subnet.parse(v.getSubnet()), v.getKey().toByteArray())).toList();
        var gateways = message.getGatewaysList().stream().map(g -> new GatewayAssignment(
                new Gateway(g.getNetwork(), message.getHost(), Ipv4Address.parse(g.getAddress()), g.getPort()),
                Integer.toUnsignedLong(g.getNetworkId()), Subnet.parse(g.getSubnet()), g.getKey().toByteArray())).toList();
        Duration ttl = message.getTokenTtlSeconds() == 0 ? RegistryConfig.TOKENS_NEVER_EXPIRE
                : Duration.ofSeconds(Integer.toUnsignedLong(message.getTokenTtlSeconds()));
        return new HostAssignments(message.getHost(), message.getAddress().isEmpty() ? 0 : Ipv4Address.parse(message.getAddress()),
                vms, gateways, ttl, Duration.ofSeconds(Integer.toUnsignedLong(message.getClockSkewSeconds())));
    }
}
