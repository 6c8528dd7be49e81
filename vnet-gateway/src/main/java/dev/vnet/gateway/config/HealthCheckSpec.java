package dev.vnet.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How the gateways of a load balancer probe its backends, and when a backend changes state: it is
 * up after {@code upThreshold} probes in a row succeeded, down after {@code downThreshold} in a row
 * failed; a probe fails when it has no answer within {@code timeoutMillis}. Probes start every
 * {@code intervalMillis}.
 *
 * <p>Fields that do not apply to the type hold no value: {@code port} is 0 for ICMP; {@code path}
 * is null and {@code expectedStatus} 0 unless HTTP. JSON:
 * {@code {"type":"http","port":80,"path":"/healthz","expected_status":200,"interval_ms":1000,
 * "timeout_ms":500,"up_threshold":2,"down_threshold":3}}, with {@code port}, {@code path} and
 * {@code expected_status} written only where they apply.
 */
public record HealthCheckSpec(HealthCheckType type, int port, String path, int expectedStatus, int intervalMillis,
                              int timeoutMillis, int upThreshold, int downThreshold) {
    public static final int DEFAULT_INTERVAL_MILLIS = 1_000;
    public static final int DEFAULT_TIMEOUT_MILLIS = 500;
    public static final int DEFAULT_UP_THRESHOLD = 2;
    public static final int DEFAULT_DOWN_THRESHOLD = 3;
    public static final String DEFAULT_HTTP_PATH = "/";
    public static final int DEFAULT_EXPECTED_STATUS = 200;
    public static final int MIN_INTERVAL_MILLIS = 100;
    public static final int MAX_INTERVAL_MILLIS = 600_000;
    public static final int MIN_TIMEOUT_MILLIS = 50;
    public static final int MAX_THRESHOLD = 100;
    public static final int MAX_PATH_LENGTH = 1_024;

    private static final Set<String> FIELDS = Set.of("type", "port", "path", "expected_status", "interval_ms", "timeout_ms",
            "up_threshold", "down_threshold");

    public HealthCheckSpec {
        if (type == null) {
            throw new IllegalArgumentException("type is required: icmp, tcp or http");
        }
        if (type == HealthCheckType.ICMP) {
            if (port != 0) {
                throw new IllegalArgumentException("port does not apply to icmp checks");
            }
        } else if (port < 1 || port > ListenerPort.MAX_PORT) {
            throw new IllegalArgumentException("port must be 1 to " + ListenerPort.MAX_PORT + ", not " + port);
        }
        if (type == HealthCheckType.HTTP) {
            checkPath(path);
            if (expectedStatus < 100 || expectedStatus > 599) {
                throw new IllegalArgumentException("expected_status must be an HTTP status, 100 to 599, not " + expectedStatus);
            }
        } else {
            if (path != null) {
                throw new IllegalArgumentException("path applies only to http checks");
            }
            if (expectedStatus != 0) {
                throw new IllegalArgumentException("expected_status applies only to http checks");
            }
        }
        if (intervalMillis < MIN_INTERVAL_MILLIS || intervalMillis > MAX_INTERVAL_MILLIS) {
            throw new IllegalArgumentException("interval_ms must be " + MIN_INTERVAL_MILLIS + " to " + MAX_INTERVAL_MILLIS
                    + ", not " + intervalMillis);
        }
        // A probe must be answered before the next one starts, or probes would pile up on a slow backend.
        if (timeoutMillis < MIN_TIMEOUT_MILLIS || timeoutMillis >= intervalMillis) {
            throw new IllegalArgumentException("timeout_ms must be at least " + MIN_TIMEOUT_MILLIS
                    + " and less than interval_ms (" + intervalMillis + "), not " + timeoutMillis);
        }
        checkThreshold("up_threshold", upThreshold);
        checkThreshold("down_threshold", downThreshold);
    }

    private static void checkPath(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("path must start with '/', not " + (path == null ? "nothing" : "'" + path + "'"));
        }
        if (path.length() > MAX_PATH_LENGTH) {
            throw new IllegalArgumentException("path is longer than " + MAX_PATH_LENGTH + " characters");
        }
        // It goes into the request line as it is: no spaces, controls or non-ASCII (percent-encode those).
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new IllegalArgumentException("path may hold only printable ASCII without spaces (percent-encode the rest): '"
                        + path + "'");
            }
        }
    }

    private static void checkThreshold(String field, int value) {
        if (value < 1 || value > MAX_THRESHOLD) {
            throw new IllegalArgumentException(field + " must be 1 to " + MAX_THRESHOLD + ", not " + value);
        }
    }

    public static HealthCheckSpec icmp() {
        return new HealthCheckSpec(HealthCheckType.ICMP, 0, null, 0, DEFAULT_INTERVAL_MILLIS, DEFAULT_TIMEOUT_MILLIS,
                DEFAULT_UP_THRESHOLD, DEFAULT_DOWN_THRESHOLD);
    }

    public static HealthCheckSpec tcp(int port) {
        return new HealthCheckSpec(HealthCheckType.TCP, port, null, 0, DEFAULT_INTERVAL_MILLIS, DEFAULT_TIMEOUT_MILLIS,
                DEFAULT_UP_THRESHOLD, DEFAULT_DOWN_THRESHOLD);
    }

    public static HealthCheckSpec http(int port, String path, int expectedStatus) {
        return new HealthCheckSpec(HealthCheckType.HTTP, port, path, expectedStatus, DEFAULT_INTERVAL_MILLIS, DEFAULT_TIMEOUT_MILLIS,
                DEFAULT_UP_THRESHOLD, DEFAULT_DOWN_THRESHOLD);
    }

    /**
     * The check a load balancer gets when it names none: TCP on its first TCP listener port, since an
     * accepted connection is the one signal every TCP service gives; ICMP when it listens on UDP only,
     * where a TCP probe would find nothing listening and mark every backend down.
     */
    public static HealthCheckSpec defaultFor(List<ListenerPort> ports) {
        return ports.stream().filter(p -> p.protocol() == Protocol.TCP).findFirst()
                .map(p -> tcp(p.port())).orElseGet(HealthCheckSpec::icmp);
    }

    /**
     * The check in {@code node} (at {@code path} in the document, for messages); omitted fields take
     * their defaults, the port that of {@code defaultFor(ports)} when it is a TCP port, else the first
     * listener port.
     */
    static HealthCheckSpec fromJson(JsonNode node, String path, List<ListenerPort> ports) {
        JsonFields fields = JsonFields.of(node, path, "health_check", FIELDS);
        String typeName = fields.text("type", null);
        HealthCheckType type = typeName == null ? defaultFor(ports).type() : parseType(typeName, fields.path("type"));
        int defaultPort = ports.stream().filter(p -> p.protocol() == Protocol.TCP).findFirst()
                .orElse(ports.getFirst()).port();
        int port = type == HealthCheckType.ICMP ? fields.integer("port", 0) : fields.integer("port", defaultPort);
        boolean http = type == HealthCheckType.HTTP;
        String checkPath = fields.text("path", http ? DEFAULT_HTTP_PATH : null);
        int status = fields.integer("expected_status", http ? DEFAULT_EXPECTED_STATUS : 0);
        if (!http && fields.has("expected_status")) {
            throw new IllegalArgumentException(fields.path("expected_status") + " applies only to http checks");
        }
        if (type == HealthCheckType.ICMP && fields.has("port")) {
            throw new IllegalArgumentException(fields.path("port") + " does not apply to icmp checks");
        }
        int interval = fields.integer("interval_ms", DEFAULT_INTERVAL_MILLIS);
        int timeout = fields.integer("timeout_ms", DEFAULT_TIMEOUT_MILLIS);
        int up = fields.integer("up_threshold", DEFAULT_UP_THRESHOLD);
        int down = fields.integer("down_threshold", DEFAULT_DOWN_THRESHOLD);
        return JsonFields.at(path, () -> new HealthCheckSpec(type, port, checkPath, status, interval, timeout, up, down));
    }

    private static HealthCheckType parseType(String name, String path) {
        for (HealthCheckType type : HealthCheckType.values()) {
            if (type.jsonName().equals(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException(path + " must be icmp, tcp or http, not '" + name + "'");
    }

    /** The full form, every field that applies written. */
    public ObjectNode toJson() {
        ObjectNode json = JsonNodeFactory.instance.objectNode().put("type", type.jsonName());
        if (type != HealthCheckType.ICMP) {
            json.put("port", port);
        }
        if (type == HealthCheckType.HTTP) {
            json.put("path", path).put("expected_status", expectedStatus);
        }
        return json.put("interval_ms", intervalMillis).put("timeout_ms", timeoutMillis)
                .put("up_threshold", upThreshold).put("down_threshold", downThreshold);
    }

    @Override
    public String toString() {
        return type.name().toLowerCase(Locale.ROOT) + (port == 0 ? "" : " :" + port) + (path == null ? "" : " " + path);
    }
}
