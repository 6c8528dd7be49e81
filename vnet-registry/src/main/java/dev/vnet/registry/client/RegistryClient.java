package dev.vnet.registry.client;

import dev.vnet.registry.AllowRule;
import dev.vnet.registry.ApiMessages;
import dev.vnet.registry.Gateway;
import dev.vnet.registry.Host;
import dev.vnet.registry.HostAssignments;
import dev.vnet.registry.Network;
import dev.vnet.registry.RegistryException;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.TokenGrant;
import dev.vnet.registry.Vm;
import dev.vnet.registry.api.AllowPairRequest;
import dev.vnet.registry.api.CreateNetworkRequest;
import dev.vnet.registry.api.CreateVmRequest;
import dev.vnet.registry.api.DeleteGatewayRequest;
import dev.vnet.registry.api.DeleteVmRequest;
import dev.vnet.registry.api.GetHostAssignmentsRequest;
import dev.vnet.registry.api.IngressTokenRequest;
import dev.vnet.registry.api.ListAllowRulesRequest;
import dev.vnet.registry.api.ListGatewaysRequest;
import dev.vnet.registry.api.ListHostsRequest;
import dev.vnet.registry.api.ListNetworksRequest;
import dev.vnet.registry.api.ListVmsRequest;
import dev.vnet.registry.api.RegisterHostRequest;
import dev.vnet.registry.api.RegistryGrpc;
import dev.vnet.registry.api.SetGatewayRequest;
import dev.vnet.registry.api.SetVmAdditionalAddressesRequest;
import dev.vnet.registry.api.TokenRequest;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.wire.Ipv4Address;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The registry's client, for host agents (assignments, tokens), gateway agents (assignments, ingress
 * tokens) and the CLI (administration). Every call
 * has a deadline ({@link #DEFAULT_DEADLINE} unless given), so an unreachable registry is an error, not a
 * hang. A refusal or failure is a {@link RegistryException} with the gRPC status code (UNAVAILABLE when
 * the registry cannot be reached or rejected the TLS handshake) and the registry's description.
 *
 * <p>Thread-safe; one client (one HTTP/2 connection) serves any number of concurrent calls.
 */
public final class RegistryClient implements AutoCloseable {
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

    private final Channel channel;
    private final ManagedChannel ownedChannel;
    private final EventLoopGroup ownedEventLoop;
    private final Duration deadline;

    private RegistryClient(Channel channel, ManagedChannel ownedChannel, EventLoopGroup ownedEventLoop, Duration deadline) {
        this.channel = channel;
        this.ownedChannel = ownedChannel;
        this.ownedEventLoop = ownedEventLoop;
        this.deadline = deadline;
    }

    /**
     * Connects over TCP with mutual TLS. The identity the registry sees is the CN of {@code tls.certificate()}.
     *
     * @param target {@code host:port}; the host must be an IP subject alternative name of the registry's certificate
     */
    public static RegistryClient connect(String target, TlsFiles tls) throws IOException {
        TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
        try {
            credentials.keyManager(tls.certificate().toFile(), tls.privateKey().toFile()).trustManager(tls.caCertificate().toFile());
        } catch (IOException e) {
            throw new IOException("cannot read the TLS files " + tls + ": " + e.getMessage(), e);
        }
        ManagedChannel channel = NettyChannelBuilder.forTarget(target, credentials.build()).build();
        return new RegistryClient(channel, channel, null, DEFAULT_DEADLINE);
    }

    /** Connects to the registry's Unix socket, where the caller is the administrator. */
    public static RegistryClient connectUnixSocket(Path socket) {
        EventLoopGroup eventLoop = new EpollEventLoopGroup(1);
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toAbsolutePath().toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(eventLoop)
                .usePlaintext()
                .build();
        return new RegistryClient(channel, channel, eventLoop, DEFAULT_DEADLINE);
    }

    /** A client over a channel the caller owns and closes (in-process servers in tests, say). */
    public static RegistryClient over(Channel channel) {
        return new RegistryClient(channel, null, null, DEFAULT_DEADLINE);
    }

    /** The same connection with another deadline per call; closing either client closes the connection. */
    public RegistryClient withDeadline(Duration perCall) {
        if (perCall == null || perCall.isNegative() || perCall.isZero()) {
            throw new IllegalArgumentException("a call deadline must be positive; got " + perCall);
        }
        return new RegistryClient(channel, ownedChannel, ownedEventLoop, perCall);
    }

    // ---------------------------------------------------------------- admin

    /** @param id 1 to 2^32-1, or 0: the registry assigns the next free id */
    public Network createNetwork(String name, long id, String subnet) {
        if (id < 0 || id > RegistryService.MAX_NETWORK_ID) {
            throw RegistryException.invalid("network id " + id + " is out of range 1-" + RegistryService.MAX_NETWORK_ID + " (0: assign one)");
        }
        return call(() -> ApiMessages.fromMessage(blocking().createNetwork(
                CreateNetworkRequest.newBuilder().setName(name).setId((int) id).setSubnet(subnet).build())));
    }

    public Host registerHost(String name, String address) {
        return call(() -> ApiMessages.fromMessage(blocking().registerHost(
                RegisterHostRequest.newBuilder().setName(name).setAddress(address).build())));
    }

    /** @param address null or empty: the lowest free address of the network's subnet */
    public Vm createVm(String name, String network, String host, String address) {
        return call(() -> ApiMessages.fromMessage(blocking().createVm(CreateVmRequest.newBuilder().setName(name).setNetwork(network)
                .setHost(host).setAddress(address == null ? "" : address).build())));
    }

    public Vm deleteVm(String name) {
        return call(() -> ApiMessages.fromMessage(blocking().deleteVm(DeleteVmRequest.newBuilder().setName(name).build())));
    }

    /**
     * Makes {@code addresses} the VM's additional addresses, replacing the ones it had (empty: none); see
     * {@link RegistryService#setVmAdditionalAddresses}.
     *
     * @param addresses {@link Ipv4Address} int form
     */
    public Vm setVmAdditionalAddresses(String vm, List<Integer> addresses) {
        return call(() -> ApiMessages.fromMessage(blocking().setVmAdditionalAddresses(SetVmAdditionalAddressesRequest.newBuilder()
                .setVm(vm).addAllAddresses(ApiMessages.texts(addresses)).build())));
    }

    public AllowRule allowPair(String sourceVm, String destinationVm) {
        return call(() -> ApiMessages.fromMessage(blocking().allowPair(
                AllowPairRequest.newBuilder().setSourceVm(sourceVm).setDestinationVm(destinationVm).build())));
    }

    /** @param address null or empty: the underlay address of the registered host {@code name} */
    public Gateway setGateway(String network, String name, String address, int port) {
        return call(() -> ApiMessages.fromMessage(blocking().setGateway(SetGatewayRequest.newBuilder().setNetwork(network).setName(name)
                .setAddress(address == null ? "" : address).setPort(port).build())));
    }

    /** Removes gateway {@code name} from {@code network}'s gateway set; returns it. */
    public Gateway deleteGateway(String network, String name) {
        return call(() -> ApiMessages.fromMessage(blocking().deleteGateway(
                DeleteGatewayRequest.newBuilder().setNetwork(network).setName(name).build())));
    }

    public List<Network> listNetworks() {
        return call(() -> blocking().listNetworks(ListNetworksRequest.getDefaultInstance()).getNetworksList().stream()
                .map(ApiMessages::fromMessage).toList());
    }

    public List<Host> listHosts() {
        return call(() -> blocking().listHosts(ListHostsRequest.getDefaultInstance()).getHostsList().stream()
                .map(ApiMessages::fromMessage).toList());
    }

    public List<Vm> listVms() {
        return listVms(null, null);
    }

    /** @param network null: every network; @param host null: every host */
    public List<Vm> listVms(String network, String host) {
        ListVmsRequest request = ListVmsRequest.newBuilder().setNetwork(network == null ? "" : network).setHost(host == null ? "" : host).build();
        return call(() -> blocking().listVms(request).getVmsList().stream().map(ApiMessages::fromMessage).toList());
    }

    public List<AllowRule> listAllowRules() {
        return call(() -> blocking().listAllowRules(ListAllowRulesRequest.getDefaultInstance()).getRulesList().stream()
                .map(ApiMessages::fromMessage).toList());
    }

    public List<Gateway> listGateways() {
        return call(() -> blocking().listGateways(ListGatewaysRequest.getDefaultInstance()).getGatewaysList().stream()
                .map(ApiMessages::fromMessage).toList());
    }

    // ---------------------------------------------------------------- agents

    /** This host's VMs and the gateways it runs, with their keys; the host (or gateway) is the identity of this client's certificate. */
    public HostAssignments getHostAssignments() {
        return call(() -> ApiMessages.fromMessage(blocking().getHostAssignments(GetHostAssignmentsRequest.getDefaultInstance())));
    }

    /** A token for {@code sourceVm}'s packets to {@code destinationAddress} in the source VM's own network. */
    public CompletableFuture<TokenGrant> requestToken(String sourceVm, int destinationAddress) {
        return requestToken(sourceVm, destinationAddress, null);
    }

    /**
     * A token for {@code sourceVm}'s packets to {@code destinationAddress}, without blocking: the future
     * completes on a gRPC thread, exceptionally with a {@link RegistryException}.
     *
     * @param destinationAddress {@link Ipv4Address} int form
     * @param destinationNetwork null: the source VM's network
     */
    public CompletableFuture<TokenGrant> requestToken(String sourceVm, int destinationAddress, String destinationNetwork) {
        TokenRequest request = TokenRequest.newBuilder().setSourceVm(sourceVm).setDestinationAddress(Ipv4Address.toString(destinationAddress))
                .setDestinationNetwork(destinationNetwork == null ? "" : destinationNetwork).build();
        return tokenCall((stub, observer) -> stub.requestToken(request, observer));
    }

    /**
     * A token for this gateway's packets from the outside address {@code sourceAddress} to the VM with
     * {@code destinationAddress} in {@code network}, without blocking: the future completes on a gRPC
     * thread, exceptionally with a {@link RegistryException}. The caller (this client's certificate's
     * identity) must be one of the network's gateways.
     *
     * @param sourceAddress      {@link Ipv4Address} int form, outside the network's subnet
     * @param destinationAddress {@link Ipv4Address} int form
     */
    public CompletableFuture<TokenGrant> requestIngressToken(String network, int sourceAddress, int destinationAddress) {
        IngressTokenRequest request = IngressTokenRequest.newBuilder().setNetwork(network)
                .setSourceAddress(Ipv4Address.toString(sourceAddress)).setDestinationAddress(Ipv4Address.toString(destinationAddress)).build();
        return tokenCall((stub, observer) -> stub.requestIngressToken(request, observer));
    }

    /** Makes one asynchronous token call and maps its grant (or status) onto the future. */
    private CompletableFuture<TokenGrant> tokenCall(
            BiConsumer<RegistryGrpc.RegistryStub, StreamObserver<dev.vnet.registry.api.TokenGrant>> call) {
        CompletableFuture<TokenGrant> result = new CompletableFuture<>();
        reconnectPromptly();
        // Wait for a connection (within the deadline) instead of failing at once while reconnecting:
        // an agent whose registry just came back should get its token, not a drop.
        RegistryGrpc.RegistryStub stub = RegistryGrpc.newStub(channel).withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS)
                .withWaitForReady();
        call.accept(stub, new StreamObserver<>() {
            @Override
            public void onNext(dev.vnet.registry.api.TokenGrant grant) {
                try {
                    result.complete(ApiMessages.fromMessage(grant));
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            }

            @Override
            public void onError(Throwable error) {
                result.completeExceptionally(error instanceof StatusRuntimeException status ? RegistryException.from(status) : error);
            }

            @Override
            public void onCompleted() {
            }
        });
        return result;
    }

    /**
     * A channel that lost the registry backs off exponentially (up to minutes) between reconnects; a
     * request is the moment to try again at once, so the first pair after a registry restart waits
     * milliseconds, not the remainder of a backoff.
     */
    private void reconnectPromptly() {
        if (channel instanceof ManagedChannel managed
                && managed.getState(false) == io.grpc.ConnectivityState.TRANSIENT_FAILURE) {
            managed.resetConnectBackoff();
        }
    }

    /** Closes the connection this client opened (not a channel given to {@link #over}). Idempotent. */
    @Override
    public void close() {
        if (ownedChannel != null) {
            ownedChannel.shutdown();
            try {
                if (!ownedChannel.awaitTermination(5, TimeUnit.SECONDS)) {
                    ownedChannel.shutdownNow();
                }
            } catch (InterruptedException e) {
                ownedChannel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (ownedEventLoop != null) {
            ownedEventLoop.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private RegistryGrpc.RegistryBlockingStub blocking() {
        return RegistryGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
    }

    private static <T> T call(Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw RegistryException.from(e);
        }
    }
}
