package dev.vnet.controller.channel;

import dev.vnet.controller.channel.proto.ControllerMessage;
import dev.vnet.controller.channel.proto.StateUpdate;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's stream, from its Hello to its end, and what was sent on it. Every field and every call
 * on the response stream is used with the {@link HostStatePublisher}'s lock held, which is also what
 * keeps calls on the (not thread-safe) response observer one at a time.
 */
final class AgentSession {
    private static final Logger log = LoggerFactory.getLogger(AgentSession.class);

    final String host;
    final String agentVersion;
    private final ServerCallStreamObserver<ControllerMessage> responses;
    /** What the agent holds once it has applied everything sent on this stream. */
    HostState sent;
    /** The version of the last update sent on this stream. */
    long sentVersion;
    /** Changes for this host were held back because the stream was not ready; send them when it is. */
    boolean pending;
    boolean ended;

    AgentSession(String host, String agentVersion, ServerCallStreamObserver<ControllerMessage> responses) {
        this.host = host;
        this.agentVersion = agentVersion;
        this.responses = responses;
    }

    /** Whether gRPC would buffer little more if we sent now (its flow-control window is open). */
    boolean ready() {
        return !ended && responses.isReady();
    }

    void send(StateUpdate update, HostState state) {
        if (ended) {
            return;
        }
        try {
            responses.onNext(ControllerMessage.newBuilder().setUpdate(update).build());
            sent = state;
            sentVersion = update.getVersion();
            pending = false;
        } catch (RuntimeException e) {
            // The call was cancelled under us; its cancel handler detaches the session.
            log.debug("cannot send to {}: {}", host, e.toString());
            ended = true;
        }
    }

    /** Ends the stream with {@code status} (OK: completes it). */
    /** A refusal saying where the host's owner is carries it in a trailer the client reads. */
    private static io.grpc.Metadata trailers(Status status) {
        io.grpc.Metadata trailers = new io.grpc.Metadata();
        String owner = AgentChannelService.ownerIn(status);
        if (owner != null) {
            trailers.put(dev.vnet.controller.channel.client.AgentChannelClient.OWNER, owner);
        }
        return trailers;
    }

    void end(Status status) {
        if (ended) {
            return;
        }
        ended = true;
        try {
            if (status.isOk()) {
                responses.onCompleted();
            } else {
                responses.onError(status.asRuntimeException(trailers(status)));
            }
        } catch (RuntimeException e) {
            log.debug("ending the stream of {}: {}", host, e.toString());
        }
    }

    @Override
    public String toString() {
        return "AgentSession[" + host + " " + agentVersion + ", sent v" + sentVersion + (pending ? ", pending" : "") + (ended ? ", ended" : "") + "]";
    }
}
