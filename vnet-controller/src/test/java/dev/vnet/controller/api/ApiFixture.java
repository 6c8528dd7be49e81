package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.controller.Controller;
import dev.vnet.controller.HostChangeSink;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.store.InMemoryConfigStore;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A controller over an in-memory store behind an API server on a free loopback port (and a Unix
 * socket when asked), with a host sink that records what was published and answers syncs as told.
 */
final class ApiFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    record Published(long version, Set<String> hosts) {
    }

    final InMemoryConfigStore store = new InMemoryConfigStore();
    final List<Published> published = new ArrayList<>();
    /** What awaitApplied answers; every host applied everything unless a test says otherwise. */
    volatile SyncStatus syncAnswer = new SyncStatus(true, List.of());
    final Controller controller;
    final ApiServer server;
    final ApiClient client;
    private final HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    ApiFixture() throws IOException {
        this(null);
    }

    ApiFixture(Path unixSocket) throws IOException {
        HostChangeSink sink = new HostChangeSink() {
            @Override
            public void publish(long version, Set<String> hosts) {
                synchronized (published) {
                    published.add(new Published(version, Set.copyOf(hosts)));
                }
            }

            @Override
            public SyncStatus awaitApplied(long version, Duration timeout) {
                return syncAnswer;
            }
        };
        controller = new Controller(store, new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()), sink);
        server = ApiServer.start(controller, new InetSocketAddress("127.0.0.1", 0), unixSocket);
        client = ApiClient.connect(endpoint());
    }

    String endpoint() {
        InetSocketAddress address = server.tcpAddress().orElseThrow();
        return "http://127.0.0.1:" + address.getPort();
    }

    /** A raw request, for bodies and headers the client would never send. */
    HttpResponse<String> send(String method, String path, String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(endpoint() + path)).timeout(Duration.ofSeconds(30));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        try {
            return raw.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> post(String path, String json) {
        return send("POST", path, "application/json", json);
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + response.body(), e);
        }
    }

    /** Creates a project, a host, a network with a subnet; returns their ids. */
    Ids basics() {
        String project = client.post("/v2.0/projects", JSON.createObjectNode().set("project", JSON.createObjectNode().put("name", "p")))
                .body().path("project").path("id").asText();
        String host = client.post("/v2.0/hosts", body("host", "name", "h1", "address", "10.255.0.1")).body().path("host").path("id").asText();
        String network = client.post("/v2.0/networks", body("network", "name", "blue", "project_id", project))
                .body().path("network").path("id").asText();
        String subnet = client.post("/v2.0/subnets", body("subnet", "name", "s", "network_id", network, "cidr", "10.0.0.0/24"))
                .body().path("subnet").path("id").asText();
        return new Ids(project, host, network, subnet);
    }

    record Ids(String project, String host, String network, String subnet) {
    }

    /** {@code {"kind": {k1: v1, k2: v2, ...}}} */
    static JsonNode body(String envelope, String... fields) {
        var inner = JSON.createObjectNode();
        for (int i = 0; i < fields.length; i += 2) {
            inner.put(fields[i], fields[i + 1]);
        }
        return JSON.createObjectNode().set(envelope, inner);
    }

    @Override
    public void close() {
        client.close();
        raw.close();
        server.close();
        controller.close();
    }
}
