package dev.vnet.controller.api.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.gateway.config.GatewaySpec;
import dev.vnet.gateway.config.LoadBalancer;
import dev.vnet.gateway.config.LoadBalancerSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A client of the controller's northbound API (see dev.vnet.controller.api.NorthboundApi for the
 * routes). Answers of 2xx come back as {@link ApiResponse}; any other status throws {@link ApiException}
 * with the server's error type and message; a controller that cannot be reached, or does not answer in
 * time, throws {@link UncheckedIOException} naming the endpoint. Thread-safe.
 */
public final class ApiClient implements AutoCloseable {
    /** How long an ordinary request may take; a sync waits as long as it asked for, plus this. */
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String endpoint;
    private final Transport transport;

    private ApiClient(String endpoint, Transport transport) {
        this.endpoint = endpoint;
        this.transport = transport;
    }

    /**
     * @param endpoint {@code http://HOST:PORT} or {@code unix:/PATH/TO.sock}
     * @throws IllegalArgumentException for anything else
     */
    public static ApiClient connect(String endpoint) {
        if (endpoint.startsWith("unix:")) {
            String path = endpoint.substring("unix:".length());
            if (path.isEmpty()) {
                throw new IllegalArgumentException("controller endpoint '" + endpoint + "' names no socket: use unix:/PATH");
            }
            return new ApiClient(endpoint, new UnixSocketTransport(Path.of(path)));
        }
        if (endpoint.startsWith("http://")) {
            try {
                URI uri = new URI(endpoint);
                if (uri.getHost() == null || uri.getPort() < 0 || !(uri.getPath().isEmpty() || uri.getPath().equals("/"))
                        || uri.getQuery() != null) {
                    throw new IllegalArgumentException("controller endpoint '" + endpoint + "' must be http://HOST:PORT");
                }
                return new ApiClient(endpoint, new TcpTransport(new URI("http", null, uri.getHost(), uri.getPort(), "/", null, null)));
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("controller endpoint '" + endpoint + "' is not a URL: " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException("controller endpoint '" + endpoint + "' must be http://HOST:PORT or unix:/PATH");
    }

    public String endpoint() {
        return endpoint;
    }

    public ApiResponse get(String path) {
        return send("GET", path, null, REQUEST_TIMEOUT);
    }

    /** @param body a JsonNode, or anything Jackson writes as the JSON wanted */
    public ApiResponse post(String path, Object body) {
        try {
            return send("POST", path, JSON.writeValueAsBytes(body), REQUEST_TIMEOUT);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the body cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
    }

    public ApiResponse delete(String path) {
        return send("DELETE", path, null, REQUEST_TIMEOUT);
    }

    /** Waits until every host affected by the changes up to {@code version} has applied them, at most {@code timeout}. */
    public SyncStatus awaitSync(long version, Duration timeout) {
        ApiResponse response = send("GET", "/v2.0/sync?version=" + version + "&timeout=" + timeout.toSeconds(), null,
                timeout.plus(REQUEST_TIMEOUT));
        List<String> pending = new ArrayList<>();
        response.body().path("pending_hosts").forEach(host -> pending.add(host.asText()));
        return new SyncStatus(response.body().path("complete").asBoolean(false), pending);
    }

    // ---- load balancers and gateways, as the configuration model's records ----

    /** Creates a load balancer (the same spec again: the existing one); its view with id and members. */
    public LoadBalancer createLoadBalancer(LoadBalancerSpec spec) {
        return LoadBalancer.fromJson(post(LOAD_BALANCERS, envelope("loadbalancer", spec.toJson())).body().path("loadbalancer"));
    }

    /** Every load balancer, by name, with its members as the controller resolved them for this answer. */
    public List<LoadBalancer> listLoadBalancers() {
        List<LoadBalancer> all = new ArrayList<>();
        get(LOAD_BALANCERS).body().path("loadbalancers").forEach(view -> all.add(LoadBalancer.fromJson(view)));
        return all;
    }

    /** @throws ApiException 404 if there is no load balancer with that id or name */
    public LoadBalancer getLoadBalancer(String idOrName) {
        return LoadBalancer.fromJson(get(LOAD_BALANCERS + "/" + encode(idOrName)).body().path("loadbalancer"));
    }

    /** @return the version of the delete */
    public long deleteLoadBalancer(String idOrName) {
        return delete(LOAD_BALANCERS + "/" + encode(idOrName)).version().orElse(0);
    }

    /** Registers a gateway (again with the same spec: nothing changes); the spec as registered. */
    public GatewaySpec createGateway(GatewaySpec spec) {
        return GatewaySpec.fromJson(withoutId(post(GATEWAYS, envelope("gateway", spec.toJson())).body().path("gateway")));
    }

    /** Every registered gateway, by name. */
    public List<GatewaySpec> listGateways() {
        List<GatewaySpec> all = new ArrayList<>();
        get(GATEWAYS).body().path("gateways").forEach(view -> all.add(GatewaySpec.fromJson(withoutId(view))));
        return all;
    }

    /** @throws ApiException 404 if there is no gateway with that id or name */
    public GatewaySpec getGateway(String idOrName) {
        return GatewaySpec.fromJson(withoutId(get(GATEWAYS + "/" + encode(idOrName)).body().path("gateway")));
    }

    /** @return the version of the delete */
    public long deleteGateway(String idOrName) {
        return delete(GATEWAYS + "/" + encode(idOrName)).version().orElse(0);
    }

    private static final String LOAD_BALANCERS = "/v2.0/lbaas/loadbalancers";
    private static final String GATEWAYS = "/v2.0/gateways";

    private static JsonNode envelope(String name, JsonNode inner) {
        return JSON.createObjectNode().set(name, inner);
    }

    /** A gateway's view without the id the controller added, which is not part of the spec. */
    private static JsonNode withoutId(JsonNode view) {
        if (!view.isObject()) {
            throw new IllegalStateException("the controller's answer holds no gateway: " + view);
        }
        com.fasterxml.jackson.databind.node.ObjectNode spec = view.deepCopy();
        spec.remove("id");
        return spec;
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private ApiResponse send(String method, String path, byte[] body, Duration timeout) {
        Transport.Exchange exchange;
        try {
            exchange = transport.exchange(method, path, body, timeout);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the controller at " + endpoint + ": " + e.getMessage(), e);
        }
        JsonNode json = parse(exchange);
        if (exchange.status() / 100 != 2) {
            JsonNode error = json.path("NeutronError");
            String message = error.path("message").asText("");
            if (message.isEmpty()) {
                message = "HTTP " + exchange.status() + (exchange.body().length == 0 ? ""
                        : ": " + new String(exchange.body(), StandardCharsets.UTF_8));
            }
            throw new ApiException(exchange.status(), error.path("type").asText("HTTP" + exchange.status()), message);
        }
        return new ApiResponse(exchange.status(), exchange.headers(), json);
    }

    private static JsonNode parse(Transport.Exchange exchange) {
        if (exchange.body().length == 0) {
            return MissingNode.getInstance();
        }
        try {
            return JSON.readTree(exchange.body());
        } catch (IOException e) {
            if (exchange.status() / 100 != 2) {
                return MissingNode.getInstance(); // the error is reported with its raw body
            }
            throw new UncheckedIOException("the controller's answer is not JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        transport.close();
    }
}
