package dev.vnet.registry.server;

import dev.vnet.registry.ApiMessages;
import dev.vnet.registry.RegistryException;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.api.AllowPairRequest;
import dev.vnet.registry.api.AllowRule;
import dev.vnet.registry.api.CreateNetworkRequest;
import dev.vnet.registry.api.CreateVmRequest;
import dev.vnet.registry.api.DeleteGatewayRequest;
import dev.vnet.registry.api.DeleteVmRequest;
import dev.vnet.registry.api.Gateway;
import dev.vnet.registry.api.GetHostAssignmentsRequest;
import dev.vnet.registry.api.Host;
import dev.vnet.registry.api.HostAssignments;
import dev.vnet.registry.api.IngressTokenRequest;
import dev.vnet.registry.api.ListAllowRulesRequest;
import dev.vnet.registry.api.ListAllowRulesResponse;
import dev.vnet.registry.api.ListGatewaysRequest;
import dev.vnet.registry.api.ListGatewaysResponse;
import dev.vnet.registry.api.ListHostsRequest;
import dev.vnet.registry.api.ListHostsResponse;
import dev.vnet.registry.api.ListNetworksRequest;
import dev.vnet.registry.api.ListNetworksResponse;
import dev.vnet.registry.api.ListVmsRequest;
import dev.vnet.registry.api.ListVmsResponse;
import dev.vnet.registry.api.Network;
import dev.vnet.registry.api.RegisterHostRequest;
import dev.vnet.registry.api.RegistryGrpc;
import dev.vnet.registry.api.SetGatewayRequest;
import dev.vnet.registry.api.SetVmAdditionalAddressesRequest;
import dev.vnet.registry.api.TokenGrant;
import dev.vnet.registry.api.TokenRequest;
import dev.vnet.registry.api.Vm;
import dev.vnet.wire.Ipv4Address;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The gRPC face of {@link RegistryService}: checks the caller's identity ({@link CallerIdentity}), converts
 * messages, and turns {@link RegistryException} into the call's status. Admin RPCs need
 * {@link RegistryService#ADMIN_IDENTITY}; agent RPCs use the identity as the host name, or as the
 * gateway name for a gateway's requests (assignments, ingress tokens).
 */
public final class RegistryGrpcService extends RegistryGrpc.RegistryImplBase {
    private static final Logger log = LoggerFactory.getLogger(RegistryGrpcService.class);

    private final RegistryService registry;

    public RegistryGrpcService(RegistryService registry) {
        this.registry = registry;
    }

    @Override
    public void createNetwork(CreateNetworkRequest request, StreamObserver<Network> response) {
        admin("CreateNetwork", response, () -> ApiMessages.toMessage(
                registry.createNetwork(request.getName(), Integer.toUnsignedLong(request.getId()), request.getSubnet())));
    }

    @Override
    public void registerHost(RegisterHostRequest request, StreamObserver<Host> response) {
        admin("RegisterHost", response, () -> ApiMessages.toMessage(registry.registerHost(request.getName(), request.getAddress())));
    }

    @Override
    public void createVm(CreateVmRequest request, StreamObserver<Vm> response) {
        admin("CreateVm", response, () -> ApiMessages.toMessage(
                registry.createVm(request.getName(), request.getNetwork(), request.getHost(), request.getAddress())));
    }

    @Override
    public void deleteVm(DeleteVmRequest request, StreamObserver<Vm> response) {
        admin("DeleteVm", response, () -> ApiMessages.toMessage(registry.deleteVm(request.getName())));
    }

    @Override
    public void setVmAdditionalAddresses(SetVmAdditionalAddressesRequest request, StreamObserver<Vm> response) {
        admin("SetVmAdditionalAddresses", response, () -> {
            List<Integer> addresses = new ArrayList<>();
            for (String address : request.getAddressesList()) {
                addresses.add(parseAddress("additional address", address));
            }
            return ApiMessages.toMessage(registry.setVmAdditionalAddresses(request.getVm(), addresses));
        });
    }

    @Override
    public void allowPair(AllowPairRequest request, StreamObserver<AllowRule> response) {
        admin("AllowPair", response, () -> ApiMessages.toMessage(registry.allowPair(request.getSourceVm(), request.getDestinationVm())));
    }

    @Override
    public void setGateway(SetGatewayRequest request, StreamObserver<Gateway> response) {
        admin("SetGateway", response, () -> ApiMessages.toMessage(
                registry.setGateway(request.getNetwork(), request.getName(), request.getAddress(), Integer.toUnsignedLong(request.getPort()))));
    }

    @Override
    public void deleteGateway(DeleteGatewayRequest request, StreamObserver<Gateway> response) {
        admin("DeleteGateway", response, () -> ApiMessages.toMessage(registry.deleteGateway(request.getNetwork(), request.getName())));
    }

    @Override
    public void listNetworks(ListNetworksRequest request, StreamObserver<ListNetworksResponse> response) {
        admin("ListNetworks", response, () -> ListNetworksResponse.newBuilder()
                .addAllNetworks(registry.networks().stream().map(ApiMessages::toMessage).toList()).build());
    }

    @Override
    public void listHosts(ListHostsRequest request, StreamObserver<ListHostsResponse> response) {
        admin("ListHosts", response, () -> ListHostsResponse.newBuilder()
                .addAllHosts(registry.hosts().stream().map(ApiMessages::toMessage).toList()).build());
    }

    @Override
    public void listVms(ListVmsRequest request, StreamObserver<ListVmsResponse> response) {
        admin("ListVms", response, () -> ListVmsResponse.newBuilder().addAllVms(registry.vms().stream()
                .filter(vm -> request.getNetwork().isEmpty() || vm.network().equals(request.getNetwork()))
                .filter(vm -> request.getHost().isEmpty() || vm.host().equals(request.getHost()))
                .map(ApiMessages::toMessage).toList()).build());
    }

    @Override
    public void listAllowRules(ListAllowRulesRequest request, StreamObserver<ListAllowRulesResponse> response) {
        admin("ListAllowRules", response, () -> ListAllowRulesResponse.newBuilder()
                .addAllRules(registry.allowRules().stream().map(ApiMessages::toMessage).toList()).build());
    }

    @Override
    public void listGateways(ListGatewaysRequest request, StreamObserver<ListGatewaysResponse> response) {
        admin("ListGateways", response, () -> ListGatewaysResponse.newBuilder()
                .addAllGateways(registry.gateways().stream().map(ApiMessages::toMessage).toList()).build());
    }

    @Override
    public void getHostAssignments(GetHostAssignmentsRequest request, StreamObserver<HostAssignments> response) {
        agent("GetHostAssignments", response, host -> ApiMessages.toMessage(registry.hostAssignments(host)));
    }

    @Override
    public void requestToken(TokenRequest request, StreamObserver<TokenGrant> response) {
        agent("RequestToken", response, host -> {
            int destination = parseAddress("destination address", request.getDestinationAddress());
            return ApiMessages.toMessage(registry.requestToken(host, request.getSourceVm(), destination, request.getDestinationNetwork()));
        });
    }

    @Override
    public void requestIngressToken(IngressTokenRequest request, StreamObserver<TokenGrant> response) {
        agent("RequestIngressToken", response, gateway -> {
            int source = parseAddress("source address", request.getSourceAddress());
            int destination = parseAddress("destination address", request.getDestinationAddress());
            return ApiMessages.toMessage(registry.issueIngressToken(gateway, request.getNetwork(), source, destination));
        });
    }

    private static int parseAddress(String what, String text) {
        try {
            return Ipv4Address.parse(text);
        } catch (IllegalArgumentException e) {
            throw RegistryException.invalid(what + ": " + e.getMessage());
        }
    }

    private static <T> void admin(String rpc, StreamObserver<T> response, Supplier<T> call) {
        String identity = CallerIdentity.current();
        if (!RegistryService.ADMIN_IDENTITY.equals(identity)) {
            response.onError(Status.PERMISSION_DENIED.withDescription(rpc + " is for the administrator; caller is " + describe(identity))
                    .asRuntimeException());
            return;
        }
        respond(rpc, response, call);
    }

    private static <T> void agent(String rpc, StreamObserver<T> response, Function<String, T> call) {
        String identity = CallerIdentity.current();
        if (identity == null) {
            response.onError(Status.UNAUTHENTICATED.withDescription("caller has no identity").asRuntimeException());
            return;
        }
        if (identity.equals(RegistryService.ADMIN_IDENTITY)) {
            response.onError(Status.PERMISSION_DENIED.withDescription(rpc + " is for host agents; the administrator runs no vms or gateways")
                    .asRuntimeException());
            return;
        }
        respond(rpc, response, () -> call.apply(identity));
    }

    private static <T> void respond(String rpc, StreamObserver<T> response, Supplier<T> call) {
        T result;
        try {
            result = call.get();
        } catch (RegistryException e) {
            response.onError(e.toStatusException());
            return;
        } catch (RuntimeException e) {
            log.error("{} failed", rpc, e);
            response.onError(Status.INTERNAL.withDescription(rpc + " failed: " + e).asRuntimeException());
            return;
        }
        response.onNext(result);
        response.onCompleted();
    }

    private static String describe(String identity) {
        return identity == null ? "unauthenticated" : "'" + identity + "'";
    }
}
