package dev.vnet.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Reads one JSON object of the configuration strictly, so that a mistake is refused with the field
 * named by its path ({@code health_check.interval_ms}, {@code ports[1].port}) instead of being half
 * understood: unknown fields, a string where a number belongs (or the other way round), a fraction
 * or an out-of-range number where a whole number belongs, null. Absent optional fields read as the
 * caller's default.
 */
final class JsonFields {
    private final ObjectNode object;
    private final String path;

    private JsonFields(ObjectNode object, String path) {
        this.object = object;
        this.path = path;
    }

    /**
     * The object at {@code path}, which may have only the {@code known} fields.
     *
     * @param what how the error names it when it is not an object ("a load balancer")
     */
    static JsonFields of(JsonNode node, String path, String what, Set<String> known) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException((path.isEmpty() ? what : path) + " must be a JSON object"
                    + (node == null || node.isMissingNode() ? "" : ", not " + describe(node)));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new IllegalArgumentException("unknown field '" + name + "'" + (path.isEmpty() ? "" : " in " + path)
                        + "; known fields: " + String.join(", ", new TreeSet<>(known)));
            }
        }
        return new JsonFields((ObjectNode) node, path);
    }

    /** The path of a field of this object, as a person writes it. */
    String path(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    boolean has(String name) {
        return object.has(name);
    }

    /** The field's value, refusing null (every field of the configuration is optional by omission, not by null). */
    JsonNode node(String name) {
        JsonNode value = object.get(name);
        if (value != null && value.isNull()) {
            throw new IllegalArgumentException(path(name) + " must not be null; leave it out for the default");
        }
        return value;
    }

    String requiredText(String name) {
        String value = text(name, null);
        if (value == null) {
            throw new IllegalArgumentException(path(name) + " is required");
        }
        return value;
    }

    String text(String name, String otherwise) {
        JsonNode value = node(name);
        if (value == null) {
            return otherwise;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException(path(name) + " must be a string, not " + describe(value));
        }
        return value.asText();
    }

    int integer(String name, int otherwise) {
        JsonNode value = node(name);
        if (value == null) {
            return otherwise;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new IllegalArgumentException(path(name) + " must be a whole number, not " + describe(value));
        }
        return value.intValue();
    }

    boolean bool(String name, boolean otherwise) {
        JsonNode value = node(name);
        if (value == null) {
            return otherwise;
        }
        if (!value.isBoolean()) {
            throw new IllegalArgumentException(path(name) + " must be true or false, not " + describe(value));
        }
        return value.booleanValue();
    }

    /** The field's array, or null when absent. */
    JsonNode array(String name) {
        JsonNode value = node(name);
        if (value != null && !value.isArray()) {
            throw new IllegalArgumentException(path(name) + " must be an array, not " + describe(value));
        }
        return value;
    }

    /** The array's strings, each checked as a string. */
    List<String> texts(String name, JsonNode array) {
        return java.util.stream.IntStream.range(0, array.size()).mapToObj(i -> {
            JsonNode item = array.get(i);
            if (!item.isTextual()) {
                throw new IllegalArgumentException(path(name) + "[" + i + "] must be a string, not " + describe(item));
            }
            return item.asText();
        }).toList();
    }

    /**
     * Builds a value whose constructor checks its own fields, naming them relative to itself ("port
     * must be ..."); a refusal is reported with this object's path in front ("ports[1].port must be ...").
     */
    static <T> T at(String path, Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw path.isEmpty() ? e : new IllegalArgumentException(path + "." + e.getMessage(), e);
        }
    }

    /** A value as an error message shows it: its JSON text, shortened. */
    static String describe(JsonNode value) {
        String text = value.toString();
        return text.length() > 40 ? text.substring(0, 37) + "..." : text;
    }
}
