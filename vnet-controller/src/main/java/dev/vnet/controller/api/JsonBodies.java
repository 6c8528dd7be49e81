package dev.vnet.controller.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.io.IOException;
import java.util.Collection;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Reads request bodies strictly, so that a mistake is refused with its place named instead of being
 * half understood: unknown fields, a field given twice, a number where a string belongs (or the other
 * way round), trailing content after the document. Every refusal is a 400 (415 for a body that is not
 * declared as JSON) whose message names the field by its path, e.g. {@code port.fixed_ips[0].subnet_id},
 * or the line and column of malformed JSON.
 */
final class JsonBodies {
    static final ObjectMapper STRICT = strictMapper();

    private JsonBodies() {
    }

    private static ObjectMapper strictMapper() {
        ObjectMapper mapper = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        // Without these a number or boolean is quietly turned into a string ("name": 5 becomes "5").
        for (CoercionInputShape shape : new CoercionInputShape[]{CoercionInputShape.Integer, CoercionInputShape.Float,
                CoercionInputShape.Boolean}) {
            mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        return mapper;
    }

    static <T> T read(ApiRequest request, Class<T> type) {
        if (!isJson(request.contentType())) {
            throw new ApiError(415, "UnsupportedMediaType", "the body must be JSON with Content-Type: application/json, not "
                    + (request.contentType() == null ? "no Content-Type" : "'" + request.contentType() + "'"));
        }
        if (request.body().length == 0) {
            throw ApiError.badRequest("the request has no body; it needs a JSON object");
        }
        try {
            T value = STRICT.readValue(request.body(), type);
            if (value == null) {
                throw ApiError.badRequest("the body is JSON null; it needs a JSON object");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            String where = path(e);
            throw ApiError.badRequest("unknown field '" + e.getPropertyName() + "'" + (where.isEmpty() ? "" : " in " + where)
                    + "; known fields: " + String.join(", ", known(e.getKnownPropertyIds())));
        } catch (MismatchedInputException e) {
            if (e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Trailing token")) {
                throw ApiError.badRequest("malformed JSON" + at(e.getLocation()) + ": more content after the JSON object");
            }
            String where = path(e);
            throw ApiError.badRequest((where.isEmpty() ? "the body" : "field '" + where + "'") + " must be "
                    + expected(e.getTargetType()) + at(e.getLocation()));
        } catch (StreamReadException e) {
            throw ApiError.badRequest("malformed JSON" + at(e.getLocation()) + ": " + firstLine(e.getOriginalMessage()));
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof StreamReadException malformed) { // a parse error met inside a record's creator
                throw ApiError.badRequest("malformed JSON" + at(malformed.getLocation()) + ": " + firstLine(malformed.getOriginalMessage()));
            }
            throw ApiError.badRequest("the body does not match the request's schema" + at(e.getLocation()) + ": "
                    + firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("malformed JSON: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new IllegalStateException("reading a body from memory failed", e);
        }
    }

    /** {@code application/json}, with or without parameters such as charset. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        return mediaType.equals("application/json");
    }

    /** The field's path in the body as a person writes it: {@code port.fixed_ips[0].ip_address}. */
    private static String path(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : e.getPath()) {
            if (reference.getFieldName() != null) {
                if (!path.isEmpty()) {
                    path.append('.');
                }
                path.append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static Collection<String> known(Collection<Object> ids) {
        TreeSet<String> names = new TreeSet<>();
        ids.forEach(id -> names.add(String.valueOf(id)));
        return names;
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "of another type";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        return "an object";
    }

    private static String at(JsonLocation location) {
        if (location == null || location.getLineNr() < 0) {
            return "";
        }
        return " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    /** Jackson's message without its second line and without the source it does not show ("REDACTED"). */
    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        String line = newline < 0 ? message : message.substring(0, newline);
        return line.replaceAll("\\[Source: [^;\\]]*; ", "[");
    }
}
