package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.controller.Controller;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The API of a controller node in a cluster: one node at a time is the writer and owns the resource
 * graph; the others forward each request to it and relay its answer, so a client may use any node.
 * Requests are forwarded whole (method, path and query, body) and the writer's status, body and
 * {@code X-Vnet-*} headers come back unchanged; with no writer known (an election in progress) the
 * answer is 503 and the client may retry.
 */
public final class ClusterApiDispatcher implements ApiDispatcher {
    /** Long enough for a forwarded {@code ?wait=true} (at most 120 s). */
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(130);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the writer asks each node whether its own hosts applied a version; not part of the public API. */
    public static final String LOCAL_SYNC_PATH = "/internal/v1/sync";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Supplier<Optional<String>> writerApi;
    private final java.util.function.BiFunction<Long, Duration, dev.vnet.controller.channel.SyncStatus> localSync;
    private volatile ApiDispatcher local;

    /**
     * @param writerApi the writer's API ({@code http://HOST:PORT}) when another node is the writer
     * @param localSync whether this node's own hosts applied a version, within a timeout
     */
    public ClusterApiDispatcher(Supplier<Optional<String>> writerApi,
                                java.util.function.BiFunction<Long, Duration, dev.vnet.controller.channel.SyncStatus> localSync) {
        this.writerApi = writerApi;
        this.localSync = localSync;
    }

    /** Asks {@code nodeApi} whether its own hosts applied {@code version}. */
    public dev.vnet.controller.channel.SyncStatus askNode(String nodeApi, long version, Duration timeout) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(nodeApi + LOCAL_SYNC_PATH + "?version=" + version + "&timeout="
                + Math.max(1, timeout.toSeconds()))).timeout(timeout.plusSeconds(5)).GET().build();
        try {
            JsonNode answer = JSON.readTree(http.send(request, HttpResponse.BodyHandlers.ofByteArray()).body());
            java.util.List<String> pending = new java.util.ArrayList<>();
            answer.path("pending_hosts").forEach(host -> pending.add(host.asText()));
            return new dev.vnet.controller.channel.SyncStatus(pending.isEmpty() && answer.path("complete").asBoolean(), pending);
        } catch (IOException e) {
            return new dev.vnet.controller.channel.SyncStatus(false, java.util.List.of("(the hosts of the node at " + nodeApi + ": "
                    + e.getMessage() + ")"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new dev.vnet.controller.channel.SyncStatus(false, java.util.List.of("(interrupted)"));
        }
    }

    /** This node became the writer of {@code controller} (null: it is not the writer any more). */
    public void serveLocally(Controller controller) {
        local = controller == null ? null : new NorthboundApi(controller).router();
    }

    @Override
    public Reply dispatch(String method, String uri, String contentType, byte[] body) {
        if (uri.startsWith(LOCAL_SYNC_PATH + "?") && method.equals("GET")) {
            io.netty.handler.codec.http.QueryStringDecoder query = new io.netty.handler.codec.http.QueryStringDecoder(uri);
            long version = Long.parseLong(query.parameters().getOrDefault("version", java.util.List.of("0")).getFirst());
            long seconds = Math.min(120, Long.parseLong(query.parameters().getOrDefault("timeout", java.util.List.of("10")).getFirst()));
            dev.vnet.controller.channel.SyncStatus status = localSync.apply(version, Duration.ofSeconds(seconds));
            com.fasterxml.jackson.databind.node.ObjectNode answer = JSON.createObjectNode().put("complete", status.complete());
            status.pendingHosts().forEach(answer.putArray("pending_hosts")::add);
            if (status.pendingHosts().isEmpty()) {
                answer.putArray("pending_hosts");
            }
            return Reply.json(200, answer);
        }
        ApiDispatcher here = local;
        if (here != null) {
            return here.dispatch(method, uri, contentType, body);
        }
        String writer = writerApi.get().orElseThrow(() -> new ApiError(503, "NoWriter",
                "no controller node is the writer right now (an election is under way); retry in a few seconds"));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(writer + uri)).timeout(FORWARD_TIMEOUT)
                .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        HttpResponse<byte[]> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new ApiError(502, "WriterUnreachable", "the writer node at " + writer + " did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "Interrupted", "interrupted while forwarding to the writer node");
        }
        Map<String, String> headers = new HashMap<>();
        response.headers().map().forEach((name, values) -> {
            if (name.regionMatches(true, 0, "X-Vnet-", 0, 7) || name.equalsIgnoreCase("Allow")) {
                headers.put(name, String.join(", ", values));
            }
        });
        JsonNode json = null;
        if (response.body().length > 0) {
            try {
                json = JSON.readTree(response.body());
            } catch (IOException e) {
                throw new ApiError(502, "BadWriterAnswer", "the writer node answered something that is not JSON: " + e.getMessage());
            }
        }
        return new Reply(response.statusCode(), json, headers);
    }
}
