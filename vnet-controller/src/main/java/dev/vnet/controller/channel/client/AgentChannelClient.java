package dev.vnet.controller.channel.client;

import dev.vnet.controller.channel.HostState;
import dev.vnet.controller.channel.proto.Ack;
import dev.vnet.controller.channel.proto.AgentChannelGrpc;
import dev.vnet.controller.channel.proto.AgentMessage;
import dev.vnet.controller.channel.proto.ControllerMessage;
import dev.vnet.controller.channel.proto.Hello;
import dev.vnet.controller.channel.proto.LocalRoute;
import dev.vnet.controller.channel.proto.LocalRoutes;
import dev.vnet.registry.pki.TlsFiles;
import io.grpc.Metadata;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The agent's end of the controller channel: keeps one stream to the controller open (reconnecting
 * with back-off for as long as it is not closed), holds the last state it applied, and hands every
 * update to a {@link HostStateListener} as an exact diff against that state. The listener's return
 * acknowledges the update's version to the controller.
 *
 * <p>While the controller is unreachable the agent keeps what it holds and goes on forwarding with it;
 * on reconnecting it gets its host's full state, and the diff against what it holds is empty unless
 * something changed meanwhile. A new client (a restarted agent) holds nothing and version 0, so its
 * first change adds everything of its own host.
 *
 * <p>A refusal that retrying soon will not cure (a certificate for another host, a stream replaced by
 * another agent of the same host) is retried after the longest back-off: two agents running for one
 * host take turns, each replacing the other every few seconds, and log why.
 *
 * <p>Thread-safe. The listener runs on gRPC threads, one change at a time.
 */
public final class AgentChannelClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentChannelClient.class);
    /** A full snapshot of a big network is one message; gRPC's default limit (4 MiB) is ~70,000 routes. */
    private static final int MAX_UPDATE_BYTES = 64 << 20;
    /** Pings on an idle connection find a controller that vanished without closing it (the server permits 20 s). */
    private static final Duration KEEPALIVE_TIME = Duration.ofSeconds(30);
    private static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(10);
    /** Refusals that retrying soon will not cure: the next attempt waits the longest back-off. */
    private static final Set<Status.Code> LASTING_REFUSALS = Set.of(Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED,
            Status.Code.INVALID_ARGUMENT, Status.Code.UNIMPLEMENTED, Status.Code.ABORTED, Status.Code.NOT_FOUND);

    /**
     * @param agentVersion the software version the agent reports in its Hello
     * @param minBackoff   the wait before the first reconnect; it doubles per failed attempt
     * @param maxBackoff   the longest wait; every wait is jittered by ±20 %
     */
    public record Options(String agentVersion, Duration minBackoff, Duration maxBackoff) {
        public Options {
            if (minBackoff.isNegative() || minBackoff.isZero() || maxBackoff.compareTo(minBackoff) < 0) {
                throw new IllegalArgumentException("back-off must be positive and max >= min; got " + minBackoff + ", " + maxBackoff);
            }
        }

        /**
         * 100 ms doubling to 2 s: an agent whose controller node died must find the new owner within a
         * few seconds (the node's lease TTL plus one wait), and jitter spreads a thousand agents doing so.
         */
        public static Options defaults() {
            String version = AgentChannelClient.class.getPackage().getImplementationVersion();
            return new Options("vnet-agent/" + (version == null ? "dev" : version), Duration.ofMillis(100), Duration.ofSeconds(2));
        }
    }

    /** The trailer of a refusal that names the node owning this host now (its agents' address). */
    public static final Metadata.Key<String> OWNER = Metadata.Key.of("vnet-owner", Metadata.ASCII_STRING_MARSHALLER);

    private final String hostName;
    private final HostStateListener listener;
    private final Options options;
    private final ChannelCredentials credentials;
    /** The controller nodes to try, in order, when the current one cannot be reached. */
    private final List<String> targets;
    /** One connection per controller node this agent has talked to. */
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private String target;
    private ManagedChannel channel;
    private AgentChannelGrpc.AgentChannelStub stub;

    /** Guards the fields below except those also read without it (volatile). */
    private final Object lock = new Object();
    private volatile HostState held;
    private volatile long appliedVersion;
    private volatile boolean connected;
    private Attempt attempt;
    private int failedAttempts;
    private boolean closed;

    private AgentChannelClient(String hostName, HostStateListener listener, Options options, ChannelCredentials credentials,
                               List<String> targets) {
        this.hostName = hostName;
        this.listener = listener;
        this.options = options;
        this.credentials = credentials;
        this.targets = List.copyOf(targets);
        this.held = HostState.empty(hostName);
        use(this.targets.getFirst());
    }

    /** Under the lock (or before the client is shared): talk to {@code next} from the next attempt on. */
    private void use(String next) {
        target = next;
        channel = channels.computeIfAbsent(next, t -> NettyChannelBuilder.forTarget(t, credentials)
                .maxInboundMessageSize(MAX_UPDATE_BYTES)
                .keepAliveTime(KEEPALIVE_TIME.toSeconds(), TimeUnit.SECONDS)
                .keepAliveTimeout(KEEPALIVE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                .build());
        stub = AgentChannelGrpc.newStub(channel);
    }

    /** {@link #connect(String, TlsFiles, String, HostStateListener, Options)} with {@link Options#defaults()}. */
    public static AgentChannelClient connect(String target, TlsFiles tls, String hostName, HostStateListener listener) throws IOException {
        return connect(target, tls, hostName, listener, Options.defaults());
    }

    /**
     * Starts connecting to the controller and returns at once; see {@link #connected()}.
     *
     * @param target   {@code address:port} of the controller; the address must be an IP subject
     *                 alternative name of the controller's certificate
     * @param tls      the CA, and the host's certificate (its CN must be {@code hostName}) and key
     * @param hostName this agent's host
     * @throws IOException if the TLS files cannot be read
     */
    public static AgentChannelClient connect(String target, TlsFiles tls, String hostName, HostStateListener listener, Options options)
            throws IOException {
        return connect(List.of(target), tls, hostName, listener, options);
    }

    /**
     * Starts connecting to a controller cluster: to the first of {@code targets}, then wherever a node's
     * refusal says this host's owner is ({@link #OWNER}), and to the next target when one cannot be
     * reached.
     */
    public static AgentChannelClient connect(List<String> targets, TlsFiles tls, String hostName, HostStateListener listener, Options options)
            throws IOException {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("give at least one controller address");
        }
        TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
        try {
            credentials.keyManager(tls.certificate().toFile(), tls.privateKey().toFile()).trustManager(tls.caCertificate().toFile());
        } catch (IOException e) {
            throw new IOException("cannot read the TLS files " + tls + ": " + e.getMessage(), e);
        }
        AgentChannelClient client = new AgentChannelClient(hostName, listener, options, credentials.build(), targets);
        client.startAttempt();
        return client;
    }

    /** The controller node this agent talks to (or will try next). */
    public String target() {
        synchronized (lock) {
            return target;
        }
    }

    /** Whether a stream is open and its full snapshot has been applied. */
    public boolean connected() {
        return connected;
    }

    /** The version of the last update applied (0 before any). */
    public long appliedVersion() {
        return appliedVersion;
    }

    /** The state last applied; kept while the controller is unreachable. */
    public HostState state() {
        return held;
    }

    /** Ends the stream and the connection; the listener is not called again. Does not touch what was applied. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            connected = false;
            if (attempt != null) {
                attempt.abandon("the agent is closing its channel", null);
                attempt = null;
            }
        }
        List<ManagedChannel> all;
        synchronized (lock) {
            all = List.copyOf(channels.values());
        }
        all.forEach(ManagedChannel::shutdown);
        try {
            for (ManagedChannel each : all) {
                if (!each.awaitTermination(2, TimeUnit.SECONDS)) {
                    each.shutdownNow();
                }
            }
        } catch (InterruptedException e) {
            all.forEach(ManagedChannel::shutdownNow);
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "AgentChannelClient[" + hostName + (connected ? " connected" : " disconnected") + " at v" + appliedVersion + "]";
    }

    // ---------------------------------------------------------------- one stream per attempt

    private void startAttempt() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            Attempt next = new Attempt();
            attempt = next;
            stub.connect(next);
            next.requests.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder()
                    .setHost(hostName).setAppliedVersion(appliedVersion).setAgentVersion(options.agentVersion())).build());
        }
    }

    /** Called for the current attempt's stream only: applies the update, then acknowledges it. */
    private void receive(Attempt from, ControllerMessage message) {
        synchronized (lock) {
            if (from != attempt || closed) {
                return;
            }
            if (!message.hasUpdate()) {
                log.debug("ignoring a controller message this agent does not know: {}", message.getBodyCase());
                return;
            }
            if (!message.getUpdate().getFull() && !from.synced) {
                from.abandon("the controller sent a delta before the full state", null);
                return;
            }
            HostStateChange change;
            try {
                change = StateUpdates.apply(held, message.getUpdate());
            } catch (RuntimeException e) {
                from.abandon("cannot read the controller's update v" + message.getUpdate().getVersion(), e);
                return;
            }
            try {
                listener.apply(change);
            } catch (Exception e) {
                log.warn("applying v{} ({}) failed; reconnecting for the full state: {}", change.version(), change.diff(), e.toString(), e);
                from.abandon("the agent could not apply v" + change.version(), e);
                return;
            }
            held = change.current();
            appliedVersion = change.version();
            if (change.full()) {
                from.synced = true;
                connected = true;
                failedAttempts = 0;
                log.info("channel of {} up at {} (version {}, {} VMs, {} routes, {} changed)", hostName, target, change.version(),
                        change.current().attachmentsByVmId().size(), change.current().routes().size(),
                        change.diff().isEmpty() ? "nothing" : change.diff());
            }
            from.requests.onNext(AgentMessage.newBuilder().setAck(Ack.newBuilder().setVersion(change.version())).build());
            if (change.full() || !change.diff().attachments().isEmpty()) {
                from.requests.onNext(AgentMessage.newBuilder().setLocalRoutes(localRoutes(change.current())).build());
            }
        }
    }

    /**
     * The attempt's stream ended: reconnect after a back-off, keeping what is held. A refusal naming this
     * host's owner sends the next attempt there at once; a node that cannot be reached sends it to the
     * next target.
     */
    private void ended(Attempt from, Status status, Metadata trailers) {
        synchronized (lock) {
            if (from != attempt) {
                return;
            }
            attempt = null;
            connected = false;
            if (closed) {
                return;
            }
            String owner = trailers == null ? null : trailers.get(OWNER);
            if (status.getCode() == Status.Code.FAILED_PRECONDITION && owner != null && !owner.equals(target)) {
                log.info("channel of {}: {} says the host is {}'s now; connecting there", hostName, target, owner);
                use(owner);
                CompletableFuture.runAsync(this::startAttempt);
                return;
            }
            failedAttempts++;
            if (status.getCode() == Status.Code.UNAVAILABLE || status.getCode() == Status.Code.FAILED_PRECONDITION) {
                use(targets.get((Math.max(0, targets.indexOf(target)) + 1) % targets.size()));
            }
            Duration wait = backoff(status);
            if (LASTING_REFUSALS.contains(status.getCode())) {
                log.warn("the controller ended the channel of {}: {}; retrying in {} ms", hostName, describe(status), wait.toMillis());
            } else {
                log.info("channel of {} down ({}); reconnecting to {} in {} ms", hostName, describe(status), target, wait.toMillis());
            }
            ManagedChannel next = channel;
            CompletableFuture.delayedExecutor(wait.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
                // The channel's own reconnect back-off grows to minutes; ours decides when to try.
                next.resetConnectBackoff();
                startAttempt();
            });
        }
    }

    /** The VMs this agent has set up, as the routes its controller node originates for the host. */
    private static LocalRoutes localRoutes(HostState state) {
        LocalRoutes.Builder routes = LocalRoutes.newBuilder();
        state.attachmentsByVmId().values().forEach(vm -> routes.addRoutes(LocalRoute.newBuilder()
                .setNetworkId((int) vm.networkId()).setAddress(vm.address())));
        return routes.build();
    }

    /** The status in one line: code, description, and the cause's message without its stack. */
    private static String describe(Status status) {
        Throwable cause = status.getCause();
        return status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription())
                + (cause == null ? "" : " (" + cause.getMessage() + ")");
    }

    private Duration backoff(Status status) {
        long max = options.maxBackoff().toMillis();
        long wait = LASTING_REFUSALS.contains(status.getCode())
                ? max : Math.min(max, options.minBackoff().toMillis() << Math.min(failedAttempts - 1, 20));
        double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
        return Duration.ofMillis(Math.max(1, Math.round(wait * jitter)));
    }

    /** One stream; its callbacks come one at a time. */
    private final class Attempt implements ClientResponseObserver<AgentMessage, ControllerMessage> {
        ClientCallStreamObserver<AgentMessage> requests;
        /** The full snapshot of this stream has been applied. */
        boolean synced;

        @Override
        public void beforeStart(ClientCallStreamObserver<AgentMessage> requestStream) {
            requests = requestStream;
        }

        @Override
        public void onNext(ControllerMessage message) {
            receive(this, message);
        }

        @Override
        public void onError(Throwable error) {
            ended(this, Status.fromThrowable(error), Status.trailersFromThrowable(error));
        }

        @Override
        public void onCompleted() {
            ended(this, Status.UNAVAILABLE.withDescription("the controller ended the stream"), null);
        }

        /** Gives up this stream; its end (CANCELLED) brings the reconnect. */
        void abandon(String reason, Throwable cause) {
            requests.cancel(reason, cause);
        }
    }
}
