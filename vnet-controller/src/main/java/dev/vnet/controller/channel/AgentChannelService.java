package dev.vnet.controller.channel;

import dev.vnet.controller.channel.proto.AgentChannelGrpc;
import dev.vnet.controller.channel.proto.AgentMessage;
import dev.vnet.controller.channel.proto.ControllerMessage;
import dev.vnet.controller.channel.proto.Hello;
import dev.vnet.registry.server.CallerIdentity;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC face of the agent channel (agent_channel.proto): checks that an agent's Hello names the host
 * of its certificate ({@link CallerIdentity}, so the service must be served behind
 * {@link CallerIdentity#fromClientCertificate()}, as {@code RegistryServer} does for extra services),
 * and hands the stream to the {@link HostStatePublisher}, which does the rest.
 */
public final class AgentChannelService extends AgentChannelGrpc.AgentChannelImplBase {
    private static final Logger log = LoggerFactory.getLogger(AgentChannelService.class);

    private static final String OWNER_PREFIX = "owned by the controller node at ";

    private final HostStatePublisher publisher;
    /** For a host another node owns, that node's agents address; empty when this node owns it. */
    private final java.util.function.Function<String, java.util.Optional<String>> ownerElsewhere;

    /** Told the routes (network id, address) of the VMs a host's agent has set up; see LocalRoutes in the proto. */
    private final java.util.function.BiConsumer<String, java.util.Set<RouteKey>> localRoutes;

    public AgentChannelService(HostStatePublisher publisher) {
        this(publisher, host -> java.util.Optional.empty(), (host, routes) -> {
        });
    }

    /**
     * @param ownerElsewhere for a host this node does not own, where its owner takes agents
     * @param localRoutes    told what each connected agent reports it has set up
     */
    public AgentChannelService(HostStatePublisher publisher, java.util.function.Function<String, java.util.Optional<String>> ownerElsewhere,
                               java.util.function.BiConsumer<String, java.util.Set<RouteKey>> localRoutes) {
        this.publisher = publisher;
        this.ownerElsewhere = ownerElsewhere;
        this.localRoutes = localRoutes;
    }

    /** The refusal for a host another node owns; the client finds the owner in a trailer ({@link #ownerIn}). */
    static Status ownedElsewhere(String host, java.util.Optional<String> owner) {
        return Status.FAILED_PRECONDITION.withDescription("host " + host + " is "
                + owner.map(o -> OWNER_PREFIX + o).orElse("not owned by this controller node, and no live node owns it"));
    }

    /** The owner's address a refusal from {@link #ownedElsewhere} names, or null. */
    static String ownerIn(Status status) {
        String description = status.getDescription();
        if (status.getCode() != Status.Code.FAILED_PRECONDITION || description == null) {
            return null;
        }
        int at = description.indexOf(OWNER_PREFIX);
        return at < 0 ? null : description.substring(at + OWNER_PREFIX.length());
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<ControllerMessage> responses) {
        ServerCallStreamObserver<ControllerMessage> stream = (ServerCallStreamObserver<ControllerMessage>) responses;
        AgentStream agent = new AgentStream(CallerIdentity.current(), stream);
        // Both handlers must be set before this method returns; they find the session once Hello made it.
        stream.setOnCancelHandler(agent::cancelled);
        stream.setOnReadyHandler(agent::ready);
        return agent;
    }

    /** One call: before Hello only the Hello is accepted, after it only acknowledgements. */
    private final class AgentStream implements StreamObserver<AgentMessage> {
        private final String identity;
        private final ServerCallStreamObserver<ControllerMessage> responses;
        private volatile AgentSession session;
        private volatile boolean refused;

        AgentStream(String identity, ServerCallStreamObserver<ControllerMessage> responses) {
            this.identity = identity;
            this.responses = responses;
        }

        @Override
        public void onNext(AgentMessage message) {
            if (refused) {
                return;
            }
            switch (message.getBodyCase()) {
                case HELLO -> hello(message.getHello());
                case ACK -> {
                    AgentSession current = session;
                    if (current == null) {
                        refuse(Status.INVALID_ARGUMENT.withDescription("the first message must be Hello"));
                    } else {
                        publisher.acknowledge(current, message.getAck().getVersion());
                    }
                }
                case LOCAL_ROUTES -> {
                    AgentSession current = session;
                    if (current == null) {
                        refuse(Status.INVALID_ARGUMENT.withDescription("the first message must be Hello"));
                    } else {
                        java.util.Set<RouteKey> routes = new java.util.HashSet<>();
                        message.getLocalRoutes().getRoutesList().forEach(route ->
                                routes.add(new RouteKey(Integer.toUnsignedLong(route.getNetworkId()), route.getAddress())));
                        localRoutes.accept(current.host, routes);
                    }
                }
                default -> refuse(Status.INVALID_ARGUMENT.withDescription("unknown agent message " + message.getBodyCase()));
            }
        }

        private void hello(Hello hello) {
            if (session != null) {
                refuse(Status.INVALID_ARGUMENT.withDescription("Hello may only be the first message"));
            } else if (identity == null) {
                refuse(Status.UNAUTHENTICATED.withDescription("no caller identity: the channel needs a TLS client certificate"));
            } else if (!identity.equals(hello.getHost())) {
                log.warn("refused an agent with certificate {} speaking for host '{}'", identity, hello.getHost());
                refuse(Status.PERMISSION_DENIED.withDescription("certificate " + identity + " may not connect as host '" + hello.getHost() + "'"));
            } else if (ownerElsewhere.apply(hello.getHost()).isPresent()) {
                Status refusal = ownedElsewhere(hello.getHost(), ownerElsewhere.apply(hello.getHost()));
                refused = true;
                io.grpc.Metadata trailers = new io.grpc.Metadata();
                trailers.put(dev.vnet.controller.channel.client.AgentChannelClient.OWNER, ownerIn(refusal));
                responses.onError(refusal.asRuntimeException(trailers));
            } else {
                AgentSession created = new AgentSession(hello.getHost(), hello.getAgentVersion(), responses);
                session = created;
                publisher.attach(created, hello.getAppliedVersion());
            }
        }

        private void refuse(Status status) {
            refused = true;
            AgentSession current = session;
            if (current == null) {
                // Nothing was sent on this call yet and nothing else sends on it: safe without the publisher's lock.
                responses.onError(status.asRuntimeException());
            } else {
                publisher.end(current, status);
            }
        }

        void ready() {
            AgentSession current = session;
            if (current != null) {
                publisher.ready(current);
            }
        }

        void cancelled() {
            AgentSession current = session;
            if (current != null) {
                publisher.detach(current);
            }
        }

        @Override
        public void onError(Throwable error) {
            cancelled();
        }

        @Override
        public void onCompleted() {
            AgentSession current = session;
            if (refused) {
                return;
            }
            if (current == null) {
                responses.onCompleted();
            } else {
                publisher.end(current, Status.OK);
            }
        }
    }
}
