package dev.vnet.controller.api;

import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The route table: (method, path template, query parameters it takes) to a handler. Templates are
 * literal segments and {@code {name}} parameters, as in the OpenAPI document, which is checked against
 * {@link #routes()} so the two cannot drift. An unknown path is 404, a known path with another method
 * 405, a query parameter the route does not declare 400.
 */
final class Router implements ApiDispatcher {
    @FunctionalInterface
    interface Handler {
        Reply handle(ApiRequest request);
    }

    /** One route; {@code query} names the query parameters it accepts. */
    record Route(String method, String template, Set<String> query, Handler handler) {
        Route {
            query = Set.copyOf(query);
        }

        List<String> segments() {
            return segmentsOf(template);
        }
    }

    private final List<Route> routes = new ArrayList<>();

    Router add(String method, String template, Set<String> query, Handler handler) {
        for (Route route : routes) {
            if (route.method.equals(method) && route.template.equals(template)) {
                throw new IllegalArgumentException("route " + method + " " + template + " is already there");
            }
        }
        routes.add(new Route(method, template, query, handler));
        return this;
    }

    List<Route> routes() {
        return List.copyOf(routes);
    }

    /**
     * Finds the route for {@code method} and {@code uri} and runs it.
     *
     * @throws ApiError 404, 405 or 400 as described above, or whatever the handler throws
     */
    @Override
    public Reply dispatch(String method, String uri, String contentType, byte[] body) {
        QueryStringDecoder decoder = new QueryStringDecoder(uri);
        List<String> segments;
        try {
            segments = segmentsOf(decoder.rawPath()).stream().map(QueryStringDecoder::decodeComponent).toList();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("the path " + decoder.rawPath() + " is not validly percent-encoded");
        }
        Set<String> allowed = new TreeSet<>();
        for (Route route : routes) {
            Map<String, String> parameters = match(route.segments(), segments);
            if (parameters == null) {
                continue;
            }
            if (!route.method.equals(method)) {
                allowed.add(route.method);
                continue;
            }
            Map<String, List<String>> query;
            try {
                query = decoder.parameters();
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("the query is not validly percent-encoded");
            }
            for (String name : query.keySet()) {
                if (!route.query.contains(name)) {
                    throw ApiError.badRequest("unknown query parameter '" + name + "' for " + method + " " + route.template
                            + (route.query.isEmpty() ? "; it takes none" : "; it takes: " + String.join(", ", new TreeSet<>(route.query))));
                }
            }
            return route.handler.handle(new ApiRequest(method, decoder.path(), parameters, query, contentType, body));
        }
        if (!allowed.isEmpty()) {
            throw new ApiError(405, "MethodNotAllowed", method + " is not allowed on " + decoder.path()
                    + "; allowed: " + String.join(", ", allowed)).withAllow(String.join(", ", allowed));
        }
        throw new ApiError(404, "NotFound", "no such resource: " + decoder.path());
    }

    /** The path parameters if {@code path} fits {@code template}, else null. */
    private static Map<String, String> match(List<String> template, List<String> path) {
        if (template.size() != path.size()) {
            return null;
        }
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < template.size(); i++) {
            String part = template.get(i);
            if (part.startsWith("{") && part.endsWith("}")) {
                if (path.get(i).isEmpty()) {
                    return null;
                }
                parameters.put(part.substring(1, part.length() - 1), path.get(i));
            } else if (!part.equals(path.get(i))) {
                return null;
            }
        }
        return parameters;
    }

    /** {@code /v2.0/networks/x/} → [v2.0, networks, x]: one trailing slash is ignored. */
    private static List<String> segmentsOf(String path) {
        String trimmed = path.startsWith("/") ? path.substring(1) : path;
        if (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("/", -1));
    }
}
