package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.controller.Controller;
import dev.vnet.controller.HostChangeSink;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.store.InMemoryConfigStore;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The OpenAPI document is JSON, describes exactly the routes the router serves, and its references resolve. */
class OpenApiDocumentTest {
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

    private final JsonNode document = read();
    private final Router router;

    OpenApiDocumentTest() {
        InMemoryConfigStore store = new InMemoryConfigStore();
        router = new NorthboundApi(new Controller(store, new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()),
                HostChangeSink.NONE)).router();
    }

    private static JsonNode read() {
        try (InputStream in = NorthboundApi.class.getResourceAsStream("openapi.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new AssertionError("openapi.json is not valid JSON", e);
        }
    }

    @Test
    void itIsAnOpenApi3Document() {
        assertThat(document.path("openapi").asText()).startsWith("3.0.");
        assertThat(document.path("info").path("title").asText()).isNotEmpty();
        assertThat(document.path("components").path("schemas").has("Error")).isTrue();
    }

    @Test
    void itsOperationsAreExactlyTheRoutes() {
        Set<String> documented = new TreeSet<>();
        document.path("paths").properties().forEach(path -> path.getValue().properties().forEach(operation -> {
            if (METHODS.contains(operation.getKey())) {
                documented.add(operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        Set<String> served = new TreeSet<>();
        router.routes().forEach(route -> served.add(route.method() + " " + route.template()));
        assertThat(documented).isEqualTo(served);
    }

    @Test
    void itsQueryParametersAreExactlyThoseEachRouteTakes() {
        for (Router.Route route : router.routes()) {
            JsonNode path = document.path("paths").path(route.template());
            JsonNode operation = path.path(route.method().toLowerCase(Locale.ROOT));
            Set<String> query = new HashSet<>();
            List<JsonNode> parameters = new ArrayList<>();
            path.path("parameters").forEach(parameters::add);
            operation.path("parameters").forEach(parameters::add);
            for (JsonNode parameter : parameters) {
                JsonNode resolved = resolve(parameter);
                if (resolved.path("in").asText().equals("query")) {
                    query.add(resolved.path("name").asText());
                }
            }
            assertThat(query).as(route.method() + " " + route.template()).isEqualTo(route.query());
        }
    }

    @Test
    void everyReferenceResolvesAndEveryOperationDescribesItsErrors() {
        Map<String, Integer> missing = new HashMap<>();
        collectReferences(document, missing);
        assertThat(missing).isEmpty();
        document.path("paths").properties().forEach(path -> path.getValue().properties().forEach(operation -> {
            if (METHODS.contains(operation.getKey())) {
                assertThat(operation.getValue().path("responses").has("404")).as(operation.getKey() + " " + path.getKey()).isTrue();
                assertThat(operation.getValue().path("responses").has("500")).as(operation.getKey() + " " + path.getKey()).isTrue();
            }
        }));
    }

    @Test
    void theServerServesThisDocument() throws IOException {
        try (ApiFixture api = new ApiFixture()) {
            assertThat(api.client.get("/openapi.json").body()).isEqualTo(document);
        }
    }

    private JsonNode resolve(JsonNode node) {
        if (!node.has("$ref")) {
            return node;
        }
        String ref = node.get("$ref").asText();
        assertThat(ref).startsWith("#/");
        return document.at(ref.substring(1));
    }

    private void collectReferences(JsonNode node, Map<String, Integer> missing) {
        if (node.isObject()) {
            if (node.has("$ref") && resolve(node).isMissingNode()) {
                missing.merge(node.get("$ref").asText(), 1, Integer::sum);
            }
            node.properties().forEach(field -> collectReferences(field.getValue(), missing));
        } else if (node.isArray()) {
            node.forEach(child -> collectReferences(child, missing));
        }
    }
}
