package dev.vnet.controller.api.client;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** One HTTP/1.1 exchange with the API, over TCP or a Unix socket. */
interface Transport extends AutoCloseable {
    /** @param headers by lower-case name */
    record Exchange(int status, Map<String, List<String>> headers, byte[] body) {
    }

    /**
     * Sends one request and reads its response.
     *
     * @param pathAndQuery e.g. {@code /v2.0/networks?name=blue}, already percent-encoded
     * @param body         a JSON body, or null
     * @throws IOException the controller could not be reached, or did not answer within {@code timeout}
     */
    Exchange exchange(String method, String pathAndQuery, byte[] body, Duration timeout) throws IOException;

    @Override
    void close();
}
