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

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Supplier<Optional<String>> writerApi;
    private volatile ApiDispatcher local;

    /** @param writerApi the writer's API ({@code http://HOST:PORT}) when another node is the writer */
    public ClusterApiDispatcher(Supplier<Optional<String>> writerApi) {
        this.writerApi = writerApi;
    }

    /** This node became the writer of {@code controller} (null: it is not the writer any more). */
    public void serveLocally(Controller controller) {
        local = controller == null ? null : new NorthboundApi(controller).router();
    }

    @Override
    public Reply dispatch(String method, String uri, String contentType, byte[] body) {
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
