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

    private final HostStatePublisher publisher;

    public AgentChannelService(HostStatePublisher publisher) {
        this.publisher = publisher;
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
