package dev.vnet.controller.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One request as a route sees it: the path's parameters by the names in the route's template, the
 * query's parameters (already checked against those the route declares), and the body.
 *
 * @param contentType the Content-Type header, or null
 */
public record ApiRequest(String method, String path, Map<String, String> pathParameters,
                         Map<String, List<String>> query, String contentType, byte[] body) {

    public String pathParameter(String name) {
        String value = pathParameters.get(name);
        if (value == null) {
            throw new IllegalStateException("route has no path parameter " + name);
        }
        return value;
    }

    /** The query parameter's value; given twice it is refused, since which one counts would be a guess. */
    public Optional<String> query(String name) {
        List<String> values = query.get(name);
        if (values == null || values.isEmpty()) {
            return Optional.empty();
        }
        if (values.size() > 1) {
            throw ApiError.badRequest("query parameter '" + name + "' is given " + values.size() + " times");
        }
        return Optional.of(values.getFirst());
    }

    /** A boolean query parameter: absent is false, {@code true} or {@code false} otherwise. */
    public boolean flag(String name) {
        return query(name).map(value -> switch (value) {
            case "true", "" -> true;
            case "false" -> false;
            default -> throw ApiError.badRequest("query parameter '" + name + "' must be true or false, not '" + value + "'");
        }).orElse(false);
    }

    /** A whole-number query parameter within bounds, or {@code otherwise} when absent. */
    public long number(String name, long min, long max, long otherwise) {
        Optional<String> text = query(name);
        if (text.isEmpty()) {
            return otherwise;
        }
        try {
            long value = Long.parseLong(text.get());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below, with the bounds
        }
        throw ApiError.badRequest("query parameter '" + name + "' must be a whole number from " + min + " to " + max
                + ", not '" + text.get() + "'");
    }

    /** The body as {@code type}, strictly (see {@link JsonBodies}). */
    public <T> T body(Class<T> type) {
        return JsonBodies.read(this, type);
    }
}
