package dev.vnet.controller.api.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A successful answer of the API.
 *
 * @param headers by lower-case name
 * @param body    the parsed JSON body, or a missing node for 204
 */
public record ApiResponse(int status, Map<String, List<String>> headers, JsonNode body) {
    public static final String VERSION_HEADER = "X-Vnet-Version";
    public static final String SYNC_HEADER = "X-Vnet-Sync";

    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    /** The version a write answered with, which {@link ApiClient#awaitSync} waits for. */
    public OptionalLong version() {
        return header(VERSION_HEADER).map(v -> OptionalLong.of(Long.parseLong(v))).orElse(OptionalLong.empty());
    }
}
