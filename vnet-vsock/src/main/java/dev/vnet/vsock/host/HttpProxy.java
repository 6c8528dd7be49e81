package dev.vnet.vsock.host;

import dev.vnet.vsock.mapper.Decision;
import dev.vnet.vsock.mapper.SocketUri;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP handler of socket offload: an HTTP/1.1 forward proxy for one guest connection, so that a
 * VM's access list and rewrites see the host and path of every request, not only the address the
 * guest connected to (issue 8: "requests to port 80 or an http:// URI handled as an HTTP proxy").
 *
 * <p>For each request on the connection:
 * <ol>
 *   <li>Read the request line and header section within fixed bounds (request line 8 KiB, the
 *       header section 64 KiB, 100 fields) and decide how its body is framed. Anything the proxy
 *       cannot read unambiguously is answered {@code 400} and the connection closed: a request line
 *       or headers without a bound would let one guest make the host buffer without limit, and a
 *       request whose end two parsers could place differently (Content-Length with chunked, or
 *       Content-Length values that disagree) is how requests are smuggled past a proxy's rules.
 *   <li>Name the request as a URI, {@code http://HOST[:PORT]/PATH?QUERY}: the host from the
 *       absolute-form target or the Host field, else the address the guest connected to. The URI is
 *       canonical ({@link SocketUri}), so a rule cannot be dodged by spelling the path differently.
 *   <li>Ask the {@link Policy} (the VM's access list, then its rewrites) about that URI. Every
 *       request is decided on its own, not once per connection: a keep-alive connection to an
 *       allowed host could otherwise carry any path, or any host behind the same address (the Host
 *       field can change from one request to the next). Denied: {@code 403} and close.
 *   <li>Forward it to the decision's URI, which a rewrite may have changed (host, port, path). The
 *       proxy always writes the framing and the Host field itself: Host is the authority that was
 *       decided, so a request whose absolute-form and Host disagree reaches what the rules saw,
 *       and the body goes with the Content-Length or chunking the proxy parsed, never with the
 *       guest's own framing fields. Hop-by-hop fields (Connection and the fields it names,
 *       Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade, Proxy-Authorization) describe the guest's
 *       connection to the proxy and end here; passed on, they would govern a connection they were
 *       never about, or hand the guest's proxy credentials to an origin server.
 *   <li>Relay the response, framed as its status, the method and its fields say (no body for HEAD,
 *       1xx, 204 and 304; Content-Length; chunked; else until the server closes). Bodies stream in
 *       pieces both ways and are never held whole. Chunk extensions and trailer fields are dropped:
 *       a recipient may ignore them, and dropping them keeps the framing the proxy writes its own.
 * </ol>
 * The upstream connection is kept for the next request while the target host and port stay the
 * same, and replaced when they change. A kept connection the server has meanwhile closed is retried
 * once on a new one, for a request without a body only: a body that has been streamed cannot be
 * sent again.
 *
 * <p>Not proxied: {@code CONNECT} ({@code 405}; a tunnel is the TCP handler's job, and would carry
 * anything past the path rules), protocol upgrades ({@code 501}; a WebSocket would leave HTTP
 * behind; an offer of {@code h2c} alone is dropped instead, which HTTP/2 clients expect), transfer
 * codings other than chunked ({@code 501}) and expectations other than {@code 100-continue}
 * ({@code 417}). The proxy answers {@code 100-continue} itself once the upstream connection stands,
 * so a client waiting for it sends its body without the server's help. An HTTP/1.0 guest's
 * connection closes after each response, which then arrives without chunking.
 *
 * <p>An instance serves one guest connection, whose upstream connection it holds; {@link #close()}
 * may end it from another thread.
 *
 * <p>Counters ({@link Counters}): requests, allowed, denied, bad_requests (every request refused
 * for its form: 400, 405, 417, 501, 505), upstream_failures (502, or a response cut off).
 */
final class HttpProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpProxy.class);

    static final int MAX_LINE = 8 * 1024;
    static final int MAX_HEADER_BYTES = 64 * 1024;
    static final int MAX_HEADERS = 100;
    private static final int COPY_BUFFER = 16 * 1024;
    private static final int HTTP_PORT = 80;
    /** Blank lines a client may send before a request line (RFC 9112 section 2.2 asks to ignore at least one). */
    private static final int MAX_LEADING_BLANK_LINES = 4;
    /** 15 hex digits stay below Long.MAX_VALUE; no body is that long anyway. */
    private static final int MAX_CHUNK_SIZE_DIGITS = 15;
    private static final int MAX_LENGTH_DIGITS = 18;

    private static final long CHUNKED = -1;
    private static final long UNTIL_CLOSE = -2;

    /** Fields that belong to one connection (RFC 9110 section 7.6.1), plus the guest's proxy credentials. */
    private static final Set<String> HOP_BY_HOP = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "proxy-authorization");
    /** Written by the proxy itself, never copied. */
    private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding");

    /** Decides one request's URI ({@code http://host[:port]/path}): the VM's access list, then rewrite. */
    interface Policy {
        Decision decide(SocketUri requested);
    }

    /** Opens a connection to the final destination of an allowed request (host and port of the decision's URI). */
    interface Connector {
        Socket connect(SocketUri target) throws IOException;
    }

    /** What proxies did; one set may be shared by every connection of a host. */
    static final class Counters {
        final LongAdder requests = new LongAdder();
        final LongAdder allowed = new LongAdder();
        final LongAdder denied = new LongAdder();
        final LongAdder badRequests = new LongAdder();
        final LongAdder upstreamFailures = new LongAdder();

        Map<String, Long> snapshot() {
            Map<String, Long> values = new TreeMap<>();
            values.put("requests", requests.sum());
            values.put("allowed", allowed.sum());
            values.put("denied", denied.sum());
            values.put("bad_requests", badRequests.sum());
            values.put("upstream_failures", upstreamFailures.sum());
            return values;
        }
    }

    private final Policy policy;
    private final Connector connector;
    private final Counters counters;
    private volatile Upstream upstream;
    private volatile boolean closed;

    HttpProxy(Policy policy, Connector connector) {
        this(policy, connector, new Counters());
    }

    HttpProxy(Policy policy, Connector connector, Counters counters) {
        this.policy = policy;
        this.connector = connector;
        this.counters = counters;
    }

    Counters counters() {
        return counters;
    }

    Map<String, Long> snapshot() {
        return counters.snapshot();
    }

    /**
     * Serves the guest connection until either side ends: reads requests from fromGuest, writes responses
     * to toGuest. connectedTo is the URI the guest connected to (tcp://HOST:80, or the http:// URI).
     * Neither guest stream is closed here.
     *
     * @throws IOException only when a guest stream fails; bad requests and upstream failures are answered
     */
    void serve(InputStream fromGuest, OutputStream toGuest, SocketUri connectedTo) throws IOException {
        Input guestIn = new Input(fromGuest);
        OutputStream guestOut = new BufferedOutputStream(toGuest, COPY_BUFFER);
        try {
            while (!closed && exchange(guestIn, guestOut, connectedTo)) {
                // next request on the same connection
            }
        } finally {
            dropUpstream();
        }
    }

    /** Ends {@link #serve} from another thread: the guest socket is gone, so is any wait on the server. */
    @Override
    public void close() {
        closed = true;
        dropUpstream();
    }

    // ---- one request

    /** @return whether the guest connection stays open for another request */
    private boolean exchange(Input guestIn, OutputStream guestOut, SocketUri connectedTo) throws IOException {
        Request request;
        try {
            request = readRequest(guestIn);
        } catch (Refusal refusal) {
            counters.requests.increment();
            return refuse(guestOut, refusal, false);
        }
        if (request == null) {
            return false; // the guest ended the connection between requests
        }
        counters.requests.increment();
        SocketUri uri;
        try {
            checkSupported(request);
            uri = requestUri(request, connectedTo);
        } catch (Refusal refusal) {
            return refuse(guestOut, refusal, request.head());
        }
        Decision decision = policy.decide(uri);
        if (!decision.allowed()) {
            counters.denied.increment();
            respond(guestOut, 403, "the VM's policy does not allow " + uri, request.head());
            return false;
        }
        counters.allowed.increment();
        return forward(request, uri, decision.uri(), guestIn, guestOut);
    }

    /** @return false: a refused request closes the connection, since what follows it cannot be trusted to be framed */
    private boolean refuse(OutputStream guestOut, Refusal refusal, boolean head) throws IOException {
        counters.badRequests.increment();
        LOG.debug("refused a request of the guest: {} {}", refusal.status, refusal.getMessage());
        respond(guestOut, refusal.status, refusal.getMessage(), head);
        return false;
    }

    private boolean forward(Request request, SocketUri asked, SocketUri target, Input guestIn, OutputStream guestOut)
            throws IOException {
        // A rewrite to a tcp:// URI names only where to connect; the request keeps its own path.
        String path = target.scheme() == SocketUri.Scheme.HTTP ? target.path() : asked.path();
        String authority = target.host() + (target.port() == HTTP_PORT ? "" : ":" + target.port());
        byte[] head = request.upstreamHead(path, authority);
        Exchange exchange = new Exchange(request);
        for (int attempt = 0; ; attempt++) {
            Upstream connection;
            try {
                connection = upstreamFor(target);
            } catch (IOException e) {
                counters.upstreamFailures.increment();
                LOG.debug("{}: cannot connect: {}", target, e.toString());
                respond(guestOut, 502, "cannot reach " + target.host() + ":" + target.port(), request.head());
                return false;
            }
            long responseBytesBefore = connection.in.taken();
            try {
                send(connection, head, request, guestIn, guestOut);
                return relay(connection, exchange, guestOut);
            } catch (Refusal refusal) {
                // Only the guest's body can be refused here: the response's faults are UpstreamFailures.
                dropUpstream();
                return refuse(guestOut, refusal, false);
            } catch (UpstreamFailure e) {
                dropUpstream();
                boolean untouched = connection.in.taken() == responseBytesBefore && !exchange.finalHeadSent;
                if (connection.reused && request.length == 0 && untouched && attempt == 0) {
                    LOG.debug("{}: the kept connection was closed ({}); once more on a new one", target, e.getMessage());
                    continue;
                }
                counters.upstreamFailures.increment();
                LOG.debug("{}: {}", target, e.getMessage());
                if (!exchange.finalHeadSent) {
                    respond(guestOut, 502, "the server at " + target.host() + ":" + target.port() + " failed", request.head());
                }
                return false;
            }
        }
    }

    /** What has reached the guest of one exchange's response. */
    private static final class Exchange {
        final Request request;
        boolean finalHeadSent;

        Exchange(Request request) {
            this.request = request;
        }
    }

    private void send(Upstream connection, byte[] head, Request request, Input guestIn, OutputStream guestOut)
            throws IOException, Refusal {
        connection.out.write(head);
        if (request.length != 0) {
            if (request.expectContinue) {
                // Stands in for the server's 100: the proxy does not forward Expect, and the guest waits for one.
                guestOut.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                guestOut.flush();
            }
            copyBody(guestIn, connection.out, request.length, true, "the request body");
        }
        connection.out.flush();
    }

    /** @return whether the guest connection stays open */
    private boolean relay(Upstream connection, Exchange exchange, OutputStream guestOut) throws IOException {
        Request request = exchange.request;
        Response response;
        try {
            response = readResponse(connection.in, request, guestOut);
        } catch (Refusal refusal) {
            throw new UpstreamFailure("malformed response: " + refusal.getMessage());
        }
        boolean chunkedToGuest = response.length == CHUNKED && !request.http10;
        boolean keepGuest = !request.close && !request.http10 && response.length != UNTIL_CLOSE;
        StringBuilder head = new StringBuilder(256);
        head.append("HTTP/1.1 ").append(response.status).append(' ').append(response.reason).append("\r\n");
        for (Field field : response.fields) {
            if (response.forwards(field)) {
                head.append(field.name()).append(": ").append(field.value()).append("\r\n");
            }
        }
        if (response.length >= 0 && (!response.bodyless || response.declaredLength >= 0)) {
            head.append("Content-Length: ").append(response.bodyless ? response.declaredLength : response.length).append("\r\n");
        } else if (chunkedToGuest) {
            head.append("Transfer-Encoding: chunked\r\n");
        }
        if (!keepGuest) {
            head.append("Connection: close\r\n");
        }
        head.append("\r\n");
        guestOut.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        exchange.finalHeadSent = true;
        guestOut.flush();
        if (!response.bodyless) {
            try {
                copyBody(connection.in, guestOut, response.length, chunkedToGuest, "the response body");
            } catch (Refusal refusal) {
                throw new UpstreamFailure(refusal.getMessage());
            }
        }
        guestOut.flush();
        if (!response.reusable) {
            dropUpstream();
        }
        return keepGuest;
    }

    /** The final response's head; interim (1xx) responses on the way go to an HTTP/1.1 guest as they come. */
    private Response readResponse(Input in, Request request, OutputStream guestOut) throws IOException, Refusal {
        while (true) {
            String line = in.readLine(MAX_LINE, "the status line");
            if (line == null) {
                throw new UpstreamFailure("the server closed the connection before responding");
            }
            Response response = Response.parse(line, readFields(in), request);
            if (response.status == 101) {
                throw new UpstreamFailure("the server switched protocols, which the proxy never asks for");
            }
            if (response.status >= 200) {
                return response;
            }
            if (!request.http10) {
                StringBuilder interim = new StringBuilder("HTTP/1.1 ").append(response.status).append(' ')
                        .append(response.reason).append("\r\n");
                for (Field field : response.fields) {
                    if (response.forwards(field)) {
                        interim.append(field.name()).append(": ").append(field.value()).append("\r\n");
                    }
                }
                guestOut.write(interim.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
                guestOut.flush();
            }
        }
    }

    // ---- the upstream connection

    private static final class Upstream {
        final Socket socket;
        final String key;
        final Input in;
        final OutputStream out;
        boolean reused;

        Upstream(Socket socket, String key) throws IOException {
            this.socket = socket;
            this.key = key;
            this.in = new Input(new UpstreamInput(socket.getInputStream()));
            this.out = new BufferedOutputStream(new UpstreamOutput(socket.getOutputStream()), COPY_BUFFER);
        }
    }

    private Upstream upstreamFor(SocketUri target) throws IOException {
        String key = target.host() + ":" + target.port();
        Upstream current = upstream;
        if (current != null && current.key.equals(key) && !current.socket.isClosed()) {
            current.reused = true;
            return current;
        }
        dropUpstream();
        Socket socket = connector.connect(target);
        Upstream opened;
        try {
            opened = new Upstream(socket, key);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        upstream = opened;
        if (closed) { // close() ran while connecting: it could not see this connection
            dropUpstream();
            throw new IOException("the guest connection closed");
        }
        return opened;
    }

    private void dropUpstream() {
        Upstream current = upstream;
        upstream = null;
        if (current != null) {
            try {
                current.socket.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }

    /** The server's connection failed or sent what cannot be relayed: not the guest's fault, and not the guest's stream. */
    private static class UpstreamFailure extends IOException {
        UpstreamFailure(String message) {
            super(message);
        }

        UpstreamFailure(IOException cause) {
            super(cause.toString(), cause);
        }
    }

    /** An upstream socket's own IOException, told apart from the guest stream's by type. */
    private static final class UpstreamException extends UpstreamFailure {
        UpstreamException(IOException cause) {
            super(cause);
        }
    }

    private static final class UpstreamInput extends FilterInputStream {
        UpstreamInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw new UpstreamException(e);
            }
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            try {
                return super.read(into, offset, length);
            } catch (IOException e) {
                throw new UpstreamException(e);
            }
        }
    }

    private static final class UpstreamOutput extends FilterOutputStream {
        UpstreamOutput(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            try {
                out.write(b);
            } catch (IOException e) {
                throw new UpstreamException(e);
            }
        }

        @Override
        public void write(byte[] from, int offset, int length) throws IOException {
            try {
                out.write(from, offset, length);
            } catch (IOException e) {
                throw new UpstreamException(e);
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                throw new UpstreamException(e);
            }
        }
    }

    // ---- bodies

    /**
     * Streams one body: {@code length} bytes, or chunks ({@link #CHUNKED}), or everything until the
     * sender closes ({@link #UNTIL_CLOSE}). Chunks are written chunked again when {@code chunkedOut},
     * else as the bare bytes (to an HTTP/1.0 guest, whose connection then closes).
     *
     * @throws Refusal when the body is malformed or ends early
     */
    private static void copyBody(Input from, OutputStream to, long length, boolean chunkedOut, String what)
            throws IOException, Refusal {
        byte[] buffer = new byte[COPY_BUFFER];
        if (length == UNTIL_CLOSE) {
            for (int n = from.read(buffer, 0, buffer.length); n >= 0; n = from.read(buffer, 0, buffer.length)) {
                to.write(buffer, 0, n);
                to.flush();
            }
            return;
        }
        if (length != CHUNKED) {
            copyExactly(from, to, length, buffer, what);
            return;
        }
        while (true) {
            long size = chunkSize(from.readLine(MAX_LINE, "a chunk size line"), what);
            if (size == 0) {
                readFields(from); // trailer fields: read within the header bounds, then dropped
                if (chunkedOut) {
                    to.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                to.flush();
                return;
            }
            if (chunkedOut) {
                to.write((Long.toHexString(size) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            copyExactly(from, to, size, buffer, what);
            String end = from.readLine(0, "the line after a chunk's data");
            if (end == null || !end.isEmpty()) {
                throw new Refusal(400, what + ": a chunk's data is not followed by CRLF");
            }
            if (chunkedOut) {
                to.write('\r');
                to.write('\n');
            }
            to.flush();
        }
    }

    private static void copyExactly(Input from, OutputStream to, long length, byte[] buffer, String what)
            throws IOException, Refusal {
        long left = length;
        while (left > 0) {
            int n = from.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new Refusal(400, what + " ended " + left + " bytes early");
            }
            to.write(buffer, 0, n);
            to.flush();
            left -= n;
        }
    }

    private static long chunkSize(String line, String what) throws Refusal {
        if (line == null) {
            throw new Refusal(400, what + " ended before its last chunk");
        }
        int extension = line.indexOf(';');
        String digits = (extension < 0 ? line : line.substring(0, extension)).stripTrailing();
        if (digits.isEmpty() || digits.length() > MAX_CHUNK_SIZE_DIGITS
                || !digits.chars().allMatch(c -> c < 128 && Character.digit(c, 16) >= 0)) {
            throw new Refusal(400, what + ": '" + quotable(line) + "' is not a chunk size");
        }
        return Long.parseLong(digits, 16);
    }

    // ---- messages

    private record Field(String name, String value) {
        boolean is(String lowercaseName) {
            return name.equalsIgnoreCase(lowercaseName);
        }
    }

    private static final class Request {
        String method;
        String target;
        boolean http10;
        List<Field> fields;
        /** The body: bytes, or {@link #CHUNKED}; 0 for none. */
        long length;
        /** Whether the guest wrote a Content-Length, which then goes on even when 0 (POST with an empty body). */
        boolean declaredLength;
        boolean close;
        boolean expectContinue;
        boolean dropH2cOffer;
        Set<String> connectionOptions = Set.of();

        boolean head() {
            return method.equals("HEAD");
        }

        List<String> values(String lowercaseName) {
            List<String> values = new ArrayList<>(1);
            for (Field field : fields) {
                if (field.is(lowercaseName)) {
                    values.add(field.value());
                }
            }
            return values;
        }

        byte[] upstreamHead(String path, String authority) {
            StringBuilder head = new StringBuilder(512);
            head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
            head.append("Host: ").append(authority).append("\r\n");
            for (Field field : fields) {
                String name = field.name().toLowerCase(Locale.ROOT);
                if (name.equals("host") || name.equals("expect") || HOP_BY_HOP.contains(name) || FRAMING.contains(name)
                        || connectionOptions.contains(name) || (dropH2cOffer && name.equals("http2-settings"))) {
                    continue;
                }
                head.append(field.name()).append(": ").append(field.value()).append("\r\n");
            }
            if (length == CHUNKED) {
                head.append("Transfer-Encoding: chunked\r\n");
            } else if (length > 0 || declaredLength) {
                head.append("Content-Length: ").append(length).append("\r\n");
            }
            return head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    private static final class Response {
        int status;
        String reason;
        List<Field> fields;
        boolean bodyless;
        /** The body: bytes, {@link #CHUNKED} or {@link #UNTIL_CLOSE}. */
        long length;
        /** A bodyless response's Content-Length (the size a GET would have had), -1 for none. */
        long declaredLength = -1;
        boolean reusable;
        Set<String> connectionOptions = Set.of();

        boolean forwards(Field field) {
            String name = field.name().toLowerCase(Locale.ROOT);
            return !HOP_BY_HOP.contains(name) && !FRAMING.contains(name) && !connectionOptions.contains(name);
        }

        static Response parse(String statusLine, List<Field> fields, Request request) throws Refusal {
            Response response = new Response();
            if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.") || statusLine.charAt(8) != ' '
                    || (statusLine.length() > 12 && statusLine.charAt(12) != ' ')) {
                throw new Refusal(502, "'" + quotable(statusLine) + "' is not an HTTP/1.x status line");
            }
            char minor = statusLine.charAt(7);
            String code = statusLine.substring(9, 12);
            if ((minor != '0' && minor != '1') || !code.chars().allMatch(c -> c >= '0' && c <= '9') || code.charAt(0) == '0') {
                throw new Refusal(502, "'" + quotable(statusLine) + "' is not an HTTP/1.x status line");
            }
            response.status = Integer.parseInt(code);
            response.reason = statusLine.length() > 13 ? statusLine.substring(13) : Status.reason(response.status);
            if (!response.reason.chars().allMatch(c -> c == '\t' || (c >= ' ' && c != 127))) {
                throw new Refusal(502, "the reason phrase has control characters");
            }
            response.fields = fields;
            boolean http10 = minor == '0';
            Connection connection = Connection.of(values(fields, "connection"));
            response.connectionOptions = connection.options();
            response.bodyless = request.head() || response.status < 200 || response.status == 204 || response.status == 304;
            List<String> codings = codings(values(fields, "transfer-encoding"));
            List<String> lengths = values(fields, "content-length");
            boolean ambiguous = false;
            if (response.bodyless) {
                response.length = 0;
                if (!lengths.isEmpty() && codings.isEmpty() && (request.head() || response.status == 304)) {
                    response.declaredLength = contentLength(lengths, 502);
                }
            } else if (!codings.isEmpty()) {
                // Chunked decides where the body ends even beside a Content-Length (RFC 9112 section 6.3),
                // but such a connection is not trusted with another response.
                ambiguous = !lengths.isEmpty();
                if (!codings.equals(List.of("chunked"))) {
                    // The guest would get coded bytes without the coding's name, which ends here as hop-by-hop.
                    throw new Refusal(502, "transfer coding '" + quotable(String.join(", ", codings)) + "' is not relayed");
                }
                response.length = CHUNKED;
            } else if (!lengths.isEmpty()) {
                response.length = contentLength(lengths, 502);
            } else {
                response.length = UNTIL_CLOSE;
            }
            response.reusable = !ambiguous && response.length != UNTIL_CLOSE && !connection.close()
                    && (!http10 || connection.keepAlive());
            return response;
        }
    }

    /** The Connection field: its options name further hop-by-hop fields. */
    private record Connection(boolean close, boolean keepAlive, Set<String> options) {
        static Connection of(List<String> values) {
            Set<String> options = new HashSet<>();
            for (String value : values) {
                for (String option : value.split(",")) {
                    String name = option.strip().toLowerCase(Locale.ROOT);
                    if (!name.isEmpty()) {
                        options.add(name);
                    }
                }
            }
            return new Connection(options.contains("close"), options.contains("keep-alive"), options);
        }
    }

    private static List<Field> readFields(Input in) throws IOException, Refusal {
        List<Field> fields = new ArrayList<>();
        int bytes = 0;
        while (true) {
            // Each field line with its CRLF counts; the blank line that ends the section always fits.
            String line = in.readLine(Math.max(0, MAX_HEADER_BYTES - bytes - 2), "the header section is larger than 64 KiB");
            if (line == null) {
                throw new Refusal(400, "the connection ended inside the header section");
            }
            if (line.isEmpty()) {
                return fields;
            }
            bytes += line.length() + 2;
            if (fields.size() == MAX_HEADERS) {
                throw new Refusal(400, "more than " + MAX_HEADERS + " header fields");
            }
            char first = line.charAt(0);
            if (first == ' ' || first == '\t') {
                throw new Refusal(400, "a header field is folded over lines (obsolete line folding)");
            }
            int colon = line.indexOf(':');
            String name = colon < 0 ? "" : line.substring(0, colon);
            if (!isToken(name)) {
                throw new Refusal(400, "'" + quotable(line) + "' is not a header field");
            }
            String value = line.substring(colon + 1).strip();
            if (!value.chars().allMatch(c -> c == '\t' || (c >= ' ' && c != 127))) {
                throw new Refusal(400, "the field " + name + " has control characters");
            }
            fields.add(new Field(name, value));
        }
    }

    private static Request readRequest(Input in) throws IOException, Refusal {
        String line = in.readLine(MAX_LINE, "the request line is longer than 8 KiB");
        for (int blank = 0; line != null && line.isEmpty(); blank++) {
            if (blank == MAX_LEADING_BLANK_LINES) {
                throw new Refusal(400, "blank lines instead of a request");
            }
            line = in.readLine(MAX_LINE, "the request line is longer than 8 KiB");
        }
        if (line == null) {
            return null;
        }
        Request request = new Request();
        int first = line.indexOf(' ');
        int second = first < 0 ? -1 : line.indexOf(' ', first + 1);
        if (second < 0 || line.indexOf(' ', second + 1) >= 0) {
            throw new Refusal(400, "'" + quotable(line) + "' is not METHOD TARGET HTTP/1.x");
        }
        request.method = line.substring(0, first);
        request.target = line.substring(first + 1, second);
        String version = line.substring(second + 1);
        if (!isToken(request.method) || request.target.isEmpty()
                || !request.target.chars().allMatch(c -> c > ' ' && c < 127)) {
            throw new Refusal(400, "'" + quotable(line) + "' is not METHOD TARGET HTTP/1.x");
        }
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            boolean wellFormed = version.length() == 8 && version.startsWith("HTTP/") && Character.isDigit(version.charAt(5))
                    && version.charAt(6) == '.' && Character.isDigit(version.charAt(7));
            throw new Refusal(wellFormed ? 505 : 400, "version '" + quotable(version) + "'; the proxy speaks HTTP/1.1");
        }
        request.http10 = version.equals("HTTP/1.0");
        request.fields = readFields(in);
        Connection connection = Connection.of(request.values("connection"));
        request.connectionOptions = connection.options();
        request.close = connection.close() || request.http10;
        frame(request);
        return request;
    }

    /** Where the request body ends, refusing every shape two parsers could read differently. */
    private static void frame(Request request) throws Refusal {
        List<String> codings = codings(request.values("transfer-encoding"));
        List<String> lengths = request.values("content-length");
        if (!request.values("transfer-encoding").isEmpty()) {
            if (!lengths.isEmpty()) {
                throw new Refusal(400, "both Content-Length and Transfer-Encoding");
            }
            if (request.http10) {
                throw new Refusal(400, "Transfer-Encoding in an HTTP/1.0 request");
            }
            if (!codings.equals(List.of("chunked"))) {
                // Another coding under chunked is valid HTTP the proxy does not carry; anything else is no framing at all.
                boolean valid = !codings.isEmpty() && codings.getLast().equals("chunked") && codings.indexOf("chunked") == codings.size() - 1;
                throw new Refusal(valid ? 501 : 400,
                        "transfer coding '" + quotable(String.join(", ", codings)) + "'; the proxy takes chunked only");
            }
            request.length = CHUNKED;
        } else if (!lengths.isEmpty()) {
            request.length = contentLength(lengths, 400);
            request.declaredLength = true;
        }
    }

    /** Refusals of well-formed requests the proxy does not carry. */
    private static void checkSupported(Request request) throws Refusal {
        if (request.method.equals("CONNECT")) {
            throw new Refusal(405, "CONNECT is not proxied here: a tunnel is a plain TCP connection");
        }
        List<String> expectations = request.values("expect");
        if (!expectations.isEmpty() && !request.http10) {
            if (expectations.size() != 1 || !expectations.getFirst().equalsIgnoreCase("100-continue")) {
                throw new Refusal(417, "the proxy meets only the expectation 100-continue");
            }
            request.expectContinue = true;
        }
        List<String> upgrades = codings(request.values("upgrade"));
        if (!upgrades.isEmpty()) {
            if (!upgrades.stream().allMatch("h2c"::equals)) {
                throw new Refusal(501, "protocol upgrades are not proxied");
            }
            request.dropH2cOffer = true; // the client goes on in HTTP/1.1, as it would with a server declining
        }
    }

    /** The request's URI, which the policy decides. */
    private static SocketUri requestUri(Request request, SocketUri connectedTo) throws Refusal {
        List<String> hosts = request.values("host");
        if (hosts.size() > 1) {
            throw new Refusal(400, "more than one Host field");
        }
        Authority host = hosts.isEmpty() ? null : Authority.parse(hosts.getFirst());
        String target = request.target;
        Authority authority;
        String path;
        if (target.startsWith("/")) {
            path = target;
            authority = host;
        } else if (target.regionMatches(true, 0, "http://", 0, 7)) {
            String rest = target.substring(7);
            int pathAt = rest.length();
            for (char delimiter : new char[] {'/', '?', '#'}) {
                int at = rest.indexOf(delimiter);
                if (at >= 0) {
                    pathAt = Math.min(pathAt, at);
                }
            }
            authority = Authority.parse(rest.substring(0, pathAt));
            if (authority.port() < 0) {
                authority = new Authority(authority.host(), HTTP_PORT); // a URI without a port means http's
            }
            path = rest.substring(pathAt);
            path = path.startsWith("/") ? path : "/" + path;
        } else {
            throw new Refusal(400, "the target '" + quotable(target) + "' is neither /PATH nor http://HOST/PATH");
        }
        String hostName = authority != null ? authority.host() : connectedTo.host();
        int port = authority != null && authority.port() > 0 ? authority.port()
                : connectedTo.port() > 0 ? connectedTo.port() : HTTP_PORT;
        try {
            return SocketUri.http(hostName, port, path);
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, e.getMessage());
        }
    }

    /** HOST or HOST:PORT; port -1 when absent. */
    private record Authority(String host, int port) {
        static Authority parse(String text) throws Refusal {
            String host;
            String port;
            if (text.startsWith("[")) {
                int close = text.indexOf(']');
                if (close < 0) {
                    throw new Refusal(400, "the authority '" + quotable(text) + "' has '[' without ']'");
                }
                host = text.substring(0, close + 1);
                String after = text.substring(close + 1);
                if (!after.isEmpty() && !after.startsWith(":")) {
                    throw new Refusal(400, "the authority '" + quotable(text) + "' has something after its IPv6 address");
                }
                port = after.isEmpty() ? null : after.substring(1);
            } else {
                int colon = text.indexOf(':');
                if (colon != text.lastIndexOf(':')) {
                    throw new Refusal(400, "the authority '" + quotable(text) + "' has more than one ':'");
                }
                host = colon < 0 ? text : text.substring(0, colon);
                port = colon < 0 ? null : text.substring(colon + 1);
            }
            if (host.isEmpty() || text.indexOf('@') >= 0) {
                throw new Refusal(400, "the authority '" + quotable(text) + "' is not HOST[:PORT]");
            }
            if (port == null) {
                return new Authority(host, -1);
            }
            if (port.isEmpty() || port.length() > 5 || port.charAt(0) == '0' || !port.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(port) > 65535) {
                throw new Refusal(400, "the port '" + quotable(port) + "' is not a number 1-65535");
            }
            return new Authority(host, Integer.parseInt(port));
        }
    }

    private static List<String> values(List<Field> fields, String lowercaseName) {
        return fields.stream().filter(field -> field.is(lowercaseName)).map(Field::value).toList();
    }

    /** The lowercase elements of comma-separated lists, empty ones left out. */
    private static List<String> codings(List<String> values) {
        List<String> codings = new ArrayList<>();
        for (String value : values) {
            Arrays.stream(value.split(",")).map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty())
                    .forEach(codings::add);
        }
        return codings;
    }

    /** One length however often it is repeated; differing or malformed values refuse the message. */
    private static long contentLength(List<String> values, int status) throws Refusal {
        long length = -1;
        for (String value : values) {
            for (String element : value.split(",", -1)) {
                String digits = element.strip();
                if (digits.isEmpty() || digits.length() > MAX_LENGTH_DIGITS || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    throw new Refusal(status, "Content-Length '" + quotable(value) + "' is not a length");
                }
                long parsed = Long.parseLong(digits);
                if (length >= 0 && parsed != length) {
                    throw new Refusal(status, "Content-Length values differ");
                }
                length = parsed;
            }
        }
        return length;
    }

    private static boolean isToken(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    // ---- answers of the proxy's own

    private static void respond(OutputStream guest, int status, String text, boolean head) throws IOException {
        byte[] body = (status + " " + Status.reason(status) + ": " + text + "\n").getBytes(StandardCharsets.UTF_8);
        String fields = "HTTP/1.1 " + status + " " + Status.reason(status) + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Connection: close\r\n\r\n";
        guest.write(fields.getBytes(StandardCharsets.ISO_8859_1));
        if (!head) {
            guest.write(body);
        }
        guest.flush();
    }

    private static final class Status {
        static String reason(int status) {
            return switch (status) {
                case 100 -> "Continue";
                case 200 -> "OK";
                case 400 -> "Bad Request";
                case 403 -> "Forbidden";
                case 405 -> "Method Not Allowed";
                case 417 -> "Expectation Failed";
                case 501 -> "Not Implemented";
                case 502 -> "Bad Gateway";
                case 505 -> "HTTP Version Not Supported";
                default -> "";
            };
        }
    }

    /** A message the proxy will not carry; {@code status} answers it when it is the guest's. */
    private static final class Refusal extends Exception {
        final int status;

        Refusal(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** Guests choose what is quoted back: at most the start of it, and only printable. */
    private static String quotable(String text) {
        String start = text.length() <= 100 ? text : text.substring(0, 100) + "...";
        return start.replaceAll("[^\\x20-\\x7e]", "?");
    }

    // ---- reading lines and bytes

    /** A buffered reader of lines (bounded) and bytes (streamed) from one stream. */
    private static final class Input {
        private final InputStream in;
        private final byte[] buffer = new byte[COPY_BUFFER];
        private int position;
        private int limit;
        private long taken;

        Input(InputStream in) {
            this.in = in;
        }

        /** Bytes read from the stream so far. */
        long taken() {
            return taken;
        }

        /**
         * A line without its CRLF (or bare LF), at most {@code max} bytes ({@code max >= 0}); null when
         * the stream ends before the line's first byte.
         */
        String readLine(int max, String tooLong) throws IOException, Refusal {
            byte[] line = new byte[Math.min(max + 1, 256)];
            int length = 0;
            while (true) {
                if (position == limit && !fill()) {
                    if (length == 0) {
                        return null;
                    }
                    throw new Refusal(400, "the connection ended inside a line");
                }
                byte b = buffer[position++];
                if (b == '\n') {
                    if (length > 0 && line[length - 1] == '\r') {
                        length--;
                    }
                    for (int i = 0; i < length; i++) {
                        if (line[i] == '\r' || line[i] == 0) {
                            throw new Refusal(400, "a line has a bare CR or a NUL");
                        }
                    }
                    return new String(line, 0, length, StandardCharsets.ISO_8859_1);
                }
                // max + 1: room for the CR of CRLF, which does not count
                if (length == max + 1 || (length == max && b != '\r')) {
                    throw new Refusal(400, tooLong);
                }
                if (length == line.length) {
                    line = Arrays.copyOf(line, Math.min(line.length * 2, max + 1));
                }
                line[length++] = b;
            }
        }

        int read(byte[] into, int offset, int length) throws IOException {
            if (position == limit) {
                if (length >= buffer.length) {
                    int n = in.read(into, offset, length);
                    if (n > 0) {
                        taken += n;
                    }
                    return n;
                }
                if (!fill()) {
                    return -1;
                }
            }
            int n = Math.min(length, limit - position);
            System.arraycopy(buffer, position, into, offset, n);
            position += n;
            return n;
        }

        private boolean fill() throws IOException {
            int n = in.read(buffer, 0, buffer.length);
            if (n <= 0) {
                return false; // a stream returning 0 for a non-empty read is at its end in practice
            }
            taken += n;
            position = 0;
            limit = n;
            return true;
        }
    }
}
