package dev.vnet.vsock.host;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.mapper.SocketUri;
import dev.vnet.vsock.mapper.VmPolicies;
import dev.vnet.vsock.mapper.VmPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP handler against JDK HTTP servers on loopback, with a loopback socket as the guest's connection. */
class HttpProxyTest {
    private static final SocketUri CONNECTED_TO_LOOPBACK = SocketUri.tcp("127.0.0.1", 80);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final AtomicInteger upstreamConnections = new AtomicInteger();
    private final HttpProxy.Counters counters = new HttpProxy.Counters();
    private SocketMapper mapper;

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable resource : resources.reversed()) {
            resource.close();
        }
    }

    // ---- tests

    @Test
    void aGetReachesTheServerAndItsResponseComesBackIntact() throws Exception {
        Upstream a = upstream("a");
        policy("""
                {"vm": "vm1", "default": "deny", "acl": [{"allow": "http://127[.]0[.]0[.]1:%d/.*"}]}
                """.formatted(a.port()));
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send("GET /hello?x=1 HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + a.port() + "\r\n"
                + "X-Custom: kept\r\n"
                + "Keep-Alive: timeout=5\r\n"
                + "Proxy-Connection: keep-alive\r\n"
                + "TE: trailers\r\n"
                + "Connection: X-Private\r\n"
                + "X-Private: for the proxy only\r\n"
                + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
                + "\r\n");
        Response response = guest.read("GET");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.reason()).isEqualTo("OK");
        assertThat(response.header("X-Upstream")).isEqualTo("a");
        assertThat(response.header("Content-Type")).isEqualTo("text/plain");
        assertThat(response.body()).isEqualTo("hello from a: GET /hello?x=1");
        assertThat(response.header("Content-Length")).isEqualTo(Integer.toString(response.body().length()));
        assertThat(response.header("Connection")).isNull();
        Seen seen = a.next();
        assertThat(seen.method()).isEqualTo("GET");
        assertThat(seen.target()).isEqualTo("/hello?x=1");
        assertThat(seen.headers().getFirst("Host")).isEqualTo("127.0.0.1:" + a.port());
        assertThat(seen.headers().getFirst("X-Custom")).isEqualTo("kept");
        assertThat(seen.headers().keySet()).as("hop-by-hop fields end at the proxy")
                .doesNotContainAnyElementsOf(List.of("Keep-alive", "Proxy-connection", "Te", "Connection", "X-private",
                        "Proxy-authorization"));

        guest.endRequests();
        guest.assertServeReturnedNormally();
        assertThat(counters.snapshot()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "requests", 1L, "allowed", 1L, "denied", 0L, "bad_requests", 0L, "upstream_failures", 0L));
    }

    @Test
    void anAbsoluteFormTargetIsWhatIsDecidedAndTheHostFieldFollowsIt() throws Exception {
        Upstream a = upstream("a");
        policy("""
                {"vm": "vm1", "default": "deny", "acl": [{"allow": "http://127[.]0[.]0[.]1:%d/.*"}]}
                """.formatted(a.port()));
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send("GET http://127.0.0.1:" + a.port() + "/hello HTTP/1.1\r\nHost: forbidden.example\r\n\r\n");
        assertThat(guest.read("GET").body()).isEqualTo("hello from a: GET /hello");
        assertThat(a.next().headers().getFirst("Host")).as("what the rules saw, not what the guest wrote")
                .isEqualTo("127.0.0.1:" + a.port());

        guest.send("GET /hello HTTP/1.1\r\nHost: forbidden.example\r\n\r\n");
        Response denied = guest.read("GET");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.body()).contains("http://forbidden.example/hello");
        assertThat(a.seen).isEmpty();
    }

    @Test
    void keepAliveDecidesEveryRequestOnItsHostAndPath() throws Exception {
        Upstream a = upstream("a");
        policy("""
                {"vm": "vm1", "default": "deny",
                 "acl": [{"deny": "http://127[.]0[.]0[.]1:%1$d/private.*"}, {"allow": "http://127[.]0[.]0[.]1:%1$d/.*"}]}
                """.formatted(a.port()));

        Guest byPath = guest(CONNECTED_TO_LOOPBACK);
        byPath.send(get("/public", "127.0.0.1:" + a.port()));
        assertThat(byPath.read("GET").status()).isEqualTo(200);
        byPath.send(get("/public?again", "127.0.0.1:" + a.port()));
        assertThat(byPath.read("GET").status()).isEqualTo(200);
        byPath.send(get("/private/keys", "127.0.0.1:" + a.port()));
        Response denied = byPath.read("GET");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.header("Connection")).isEqualTo("close");
        assertThat(denied.body()).contains("does not allow http://127.0.0.1:" + a.port() + "/private/keys");
        assertThat(byPath.atEnd()).as("a denial closes the connection").isTrue();
        byPath.assertServeReturnedNormally();
        Seen first = a.next();
        Seen second = a.next();
        assertThat(List.of(first.target(), second.target())).containsExactly("/public", "/public?again");
        assertThat(second.remotePort()).as("one upstream connection for both").isEqualTo(first.remotePort());
        assertThat(upstreamConnections).hasValue(1);

        Guest byHost = guest(CONNECTED_TO_LOOPBACK);
        byHost.send(get("/public", "127.0.0.1:" + a.port()));
        assertThat(byHost.read("GET").status()).isEqualTo(200);
        byHost.send(get("/public", "localhost:" + a.port()));
        assertThat(byHost.read("GET").status()).as("the same address by another name is another host").isEqualTo(403);
        assertThat(byHost.atEnd()).isTrue();
        assertThat(a.next().target()).isEqualTo("/public");
        assertThat(a.seen).as("nothing denied reached the server").isEmpty();

        assertThat(counters.snapshot()).containsEntry("requests", 5L).containsEntry("allowed", 3L).containsEntry("denied", 2L);
        assertThat(mapper.counters().snapshot()).containsEntry("allowed", 3L).containsEntry("denied", 2L)
                .containsEntry("handler.http", 3L);
    }

    @Test
    void aRewriteSendsTheRequestToAnotherHostPortAndPath() throws Exception {
        Upstream a = upstream("a");
        Upstream b = upstream("b");
        policy("""
                {"vm": "vm1", "default": "deny",
                 "acl": [{"allow": "http://app[.]test/.*"}, {"allow": "http://127[.]0[.]0[.]1:%d/.*"}],
                 "rewrite": [{"match": "http://app[.]test/(.*)", "to": "http://127.0.0.1:%d/v2/$1"}]}
                """.formatted(a.port(), b.port()));
        Guest guest = guest(SocketUri.tcp("app.test", 80));

        guest.send(get("/hello", "app.test"));
        Response rewritten = guest.read("GET");
        assertThat(rewritten.header("X-Upstream")).isEqualTo("b");
        assertThat(rewritten.body()).isEqualTo("hello from b: GET /v2/hello");
        Seen atB = b.next();
        assertThat(atB.headers().getFirst("Host")).as("the host the rewrite chose").isEqualTo("127.0.0.1:" + b.port());

        guest.send(get("/hello", "127.0.0.1:" + a.port()));
        assertThat(guest.read("GET").body()).as("a new target: a new upstream connection").isEqualTo("hello from a: GET /hello");

        // No Host field: the host the guest connected to.
        guest.send("GET /other HTTP/1.1\r\n\r\n");
        assertThat(guest.read("GET").body()).isEqualTo("hello from b: GET /v2/other");

        assertThat(a.next().target()).isEqualTo("/hello");
        assertThat(a.seen).isEmpty();
        assertThat(b.next().target()).isEqualTo("/v2/other");
        assertThat(b.seen).isEmpty();
        assertThat(upstreamConnections).hasValue(3);
        assertThat(mapper.counters().snapshot()).containsEntry("rewritten", 2L);
    }

    @Test
    void aPostWithAContentLengthGoesThroughWhole() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        Guest guest = guest(CONNECTED_TO_LOOPBACK);
        byte[] large = new byte[1 << 20];
        new Random(1).nextBytes(large);

        guest.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nContent-Length: 11\r\n\r\nhello world");
        assertThat(guest.read("POST").body()).isEqualTo("hello world");
        assertThat(a.next().headers().getFirst("Content-Length")).isEqualTo("11");

        guest.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nContent-Length: " + large.length + "\r\n\r\n");
        guest.out.write(large);
        Response echoed = guest.read("POST");
        assertThat(echoed.bytes()).isEqualTo(large);

        guest.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nContent-Length: 0\r\n\r\n");
        assertThat(guest.read("POST").body()).isEmpty();
        assertThat(a.next().body()).hasSize(large.length);
        assertThat(a.next().headers().getFirst("Content-Length")).as("an empty body keeps its length").isEqualTo("0");
    }

    @Test
    void aChunkedPostStreamsThroughAsItComes() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send("POST /stream HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n");
        assertThat(a.firstBytes.await(10, TimeUnit.SECONDS)).as("the first chunk reached the server before the rest was sent")
                .isTrue();
        guest.send("6\r\n world\r\n0\r\nX-Trailer: dropped\r\n\r\n");

        Response response = guest.read("POST");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("hello world");
        assertThat(a.next().headers().getFirst("Transfer-Encoding")).isEqualTo("chunked");
    }

    @Test
    void theProxyAnswersExpect100ContinueItself() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
        assertThat(guest.read("POST").status()).isEqualTo(100);
        guest.send("abc");
        Response response = guest.read("POST");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("abc");
        assertThat(a.next().headers().containsKey("Expect")).isFalse();
    }

    static Stream<Arguments> refusedRequests() {
        String host = "Host: 127.0.0.1\r\n";
        return Stream.of(
                Arguments.of("a request line over 8 KiB", "GET /" + "a".repeat(8 * 1024) + " HTTP/1.1\r\n" + host + "\r\n", 400),
                Arguments.of("101 header fields", "GET / HTTP/1.1\r\n" + host + "X-N: v\r\n".repeat(100) + "\r\n", 400),
                Arguments.of("a header section over 64 KiB",
                        "GET / HTTP/1.1\r\n" + host + ("X-Big: " + "b".repeat(1000) + "\r\n").repeat(66) + "\r\n", 400),
                Arguments.of("Content-Length and chunked",
                        "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                Arguments.of("differing Content-Length fields",
                        "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
                Arguments.of("a Content-Length list that differs", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 6\r\n\r\n", 400),
                Arguments.of("a negative Content-Length", "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400),
                Arguments.of("chunked before another coding",
                        "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400),
                Arguments.of("chunked in HTTP/1.0", "POST / HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                Arguments.of("a Host that is no host name", "GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", 400),
                Arguments.of("a Host with user information", "GET / HTTP/1.1\r\nHost: user@127.0.0.1\r\n\r\n", 400),
                Arguments.of("a Host port out of range", "GET / HTTP/1.1\r\nHost: 127.0.0.1:65536\r\n\r\n", 400),
                Arguments.of("an inet_aton Host", "GET / HTTP/1.1\r\nHost: 0x7f.1\r\n\r\n", 400),
                Arguments.of("two Host fields", "GET / HTTP/1.1\r\n" + host + host + "\r\n", 400),
                Arguments.of("a folded field", "GET / HTTP/1.1\r\n" + host + "X-A: a\r\n b\r\n\r\n", 400),
                Arguments.of("a space before the colon", "GET / HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n", 400),
                Arguments.of("a bare CR", "GET / HTTP/1.1\r\n" + host + "X-A: a\rb\r\n\r\n", 400),
                Arguments.of("a request line without version", "GET /\r\n" + host + "\r\n", 400),
                Arguments.of("a request line with four parts", "GET / HTTP/1.1 more\r\n" + host + "\r\n", 400),
                Arguments.of("a target of another scheme", "GET https://127.0.0.1/ HTTP/1.1\r\n" + host + "\r\n", 400),
                Arguments.of("a fragment", "GET /a#b HTTP/1.1\r\n" + host + "\r\n", 400),
                Arguments.of("a request cut off in its fields", "GET / HTTP/1.1\r\nHost: 127.0", 400),
                Arguments.of("HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", 505),
                Arguments.of("CONNECT", "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n", 405),
                Arguments.of("a WebSocket upgrade",
                        "GET /chat HTTP/1.1\r\n" + host + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 501),
                Arguments.of("another coding under chunked",
                        "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
                Arguments.of("an expectation other than 100-continue", "GET / HTTP/1.1\r\n" + host + "Expect: magic\r\n\r\n", 417));
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("refusedRequests")
    void aRequestThatCannotBeCarriedIsRefusedBeforeAnyDecision(String name, String raw, int status) throws Exception {
        Upstream a = upstream("a");
        policy("""
                {"vm": "vm1", "default": "allow"}
                """);
        Guest guest = guest(SocketUri.tcp("127.0.0.1", a.port()));

        guest.send(raw);
        guest.endRequests();
        Response response = guest.read("GET");

        assertThat(response.status()).isEqualTo(status);
        assertThat(response.header("Connection")).isEqualTo("close");
        assertThat(response.header("Content-Type")).startsWith("text/plain");
        assertThat(guest.atEnd()).isTrue();
        guest.assertServeReturnedNormally();
        assertThat(counters.snapshot()).containsEntry("requests", 1L).containsEntry("bad_requests", 1L).containsEntry("allowed", 0L);
        assertThat(mapper.counters().snapshot()).as("the policy never saw it").containsEntry("allowed", 0L).containsEntry("denied", 0L);
        assertThat(a.seen).isEmpty();
    }

    @Test
    void theBoundsAreExactlyTheLimits() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        String hostLine = "Host: 127.0.0.1:" + a.port() + "\r\n";
        String longestPath = "/" + "p".repeat(HttpProxy.MAX_LINE - "GET / HTTP/1.1".length());

        Guest atTheLimits = guest(CONNECTED_TO_LOOPBACK);
        atTheLimits.send("GET " + longestPath + " HTTP/1.1\r\n" + hostLine + "\r\n");
        assertThat(atTheLimits.read("GET").status()).as("a request line of 8 KiB").isEqualTo(200);
        atTheLimits.send("GET / HTTP/1.1\r\n" + fields(hostLine, HttpProxy.MAX_HEADER_BYTES) + "\r\n");
        assertThat(atTheLimits.read("GET").status()).as("a header section of 64 KiB").isEqualTo(200);
        atTheLimits.send("GET / HTTP/1.1\r\n" + hostLine + "X-N: v\r\n".repeat(HttpProxy.MAX_HEADERS - 1) + "\r\n");
        assertThat(atTheLimits.read("GET").status()).as("100 fields").isEqualTo(200);

        Guest longerLine = guest(CONNECTED_TO_LOOPBACK);
        longerLine.send("GET " + longestPath + "p HTTP/1.1\r\n" + hostLine + "\r\n");
        assertThat(longerLine.read("GET").status()).isEqualTo(400);

        Guest largerSection = guest(CONNECTED_TO_LOOPBACK);
        largerSection.send("GET / HTTP/1.1\r\n" + fields(hostLine, HttpProxy.MAX_HEADER_BYTES + 1) + "\r\n");
        assertThat(largerSection.read("GET").status()).isEqualTo(400);
        assertThat(counters.snapshot()).containsEntry("allowed", 3L).containsEntry("bad_requests", 2L);
    }

    /** {@code hostLine} and filler fields, {@code bytes} in all with their CRLFs. */
    private static String fields(String hostLine, int bytes) {
        StringBuilder fields = new StringBuilder(hostLine);
        for (int i = 0; fields.length() < bytes; i++) {
            String name = "X-Filler-" + i + ": ";
            int value = Math.min(1000, bytes - fields.length() - name.length() - 2);
            fields.append(name).append("f".repeat(Math.max(1, value))).append("\r\n");
        }
        assertThat(fields).hasSize(bytes);
        return fields.toString();
    }

    @Test
    void aMalformedChunkIsRefusedAndTheUpstreamConnectionDropped() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n");
        Response response = guest.read("POST");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.body()).contains("is not a chunk size");
        assertThat(guest.atEnd()).isTrue();
        guest.assertServeReturnedNormally();
        assertThat(counters.snapshot()).containsEntry("bad_requests", 1L);
    }

    @Test
    void anUpstreamThatRefusesIsABadGateway() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        policy("""
                {"vm": "vm1", "default": "deny", "acl": [{"allow": "http://127[.]0[.]0[.]1:%d/.*"}]}
                """.formatted(closedPort));
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send(get("/", "127.0.0.1:" + closedPort));
        Response response = guest.read("GET");

        assertThat(response.status()).isEqualTo(502);
        assertThat(response.header("Connection")).isEqualTo("close");
        assertThat(guest.atEnd()).isTrue();
        guest.assertServeReturnedNormally();
        assertThat(counters.snapshot()).containsEntry("allowed", 1L).containsEntry("upstream_failures", 1L);
    }

    @Test
    void headAnd204ResponsesHaveNoBodyAndTheConnectionGoesOn() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        Guest guest = guest(CONNECTED_TO_LOOPBACK);
        String body = "hello from a: GET /hello";

        guest.send("HEAD /hello HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\n\r\n");
        Response head = guest.read("HEAD");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Length")).as("the length a GET would have").isEqualTo(Integer.toString(body.length()));

        guest.send(get("/empty", "127.0.0.1:" + a.port()));
        Response empty = guest.read("GET");
        assertThat(empty.status()).isEqualTo(204);
        assertThat(empty.header("Content-Length")).isNull();
        assertThat(empty.header("Transfer-Encoding")).isNull();

        guest.send(get("/hello", "127.0.0.1:" + a.port()));
        assertThat(guest.read("GET").body()).as("nothing was taken for a body that is not there").isEqualTo(body);
        assertThat(upstreamConnections).hasValue(1);
    }

    @Test
    void aChunkedResponseStaysChunkedForHttp11AndEndsWithTheConnectionForHttp10() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);

        Guest modern = guest(CONNECTED_TO_LOOPBACK);
        modern.send(get("/chunked", "127.0.0.1:" + a.port()));
        Response chunked = modern.read("GET");
        assertThat(chunked.header("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(chunked.body()).isEqualTo("part one, part two");
        modern.send(get("/hello", "127.0.0.1:" + a.port()));
        assertThat(modern.read("GET").status()).isEqualTo(200);

        Guest old = guest(CONNECTED_TO_LOOPBACK);
        old.send("GET /chunked HTTP/1.0\r\nHost: 127.0.0.1:" + a.port() + "\r\n\r\n");
        Response plain = old.read("GET");
        assertThat(plain.header("Transfer-Encoding")).isNull();
        assertThat(plain.header("Connection")).isEqualTo("close");
        assertThat(plain.body()).isEqualTo("part one, part two");
        assertThat(old.atEnd()).isTrue();
        old.assertServeReturnedNormally();
    }

    @Test
    void aKeptConnectionTheServerClosedMeanwhileIsReplacedForARequestWithoutBody() throws Exception {
        ServerSocket server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        resources.add(server);
        AtomicInteger accepted = new AtomicInteger();
        Thread.ofVirtual().start(() -> {
            // Answers one request per connection and closes it without saying so, as idle timeouts do.
            while (!server.isClosed()) {
                try (Socket connection = server.accept()) {
                    accepted.incrementAndGet();
                    InputStream in = connection.getInputStream();
                    ByteArrayOutputStream head = new ByteArrayOutputStream();
                    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                        int b = in.read();
                        if (b < 0) {
                            break;
                        }
                        head.write(b);
                    }
                    connection.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                } catch (IOException e) {
                    // closed
                }
            }
        });
        policy("""
                {"vm": "vm1", "default": "allow"}
                """);
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send(get("/1", "127.0.0.1:" + server.getLocalPort()));
        assertThat(guest.read("GET").body()).isEqualTo("ok");
        Thread.sleep(100); // the server's close reaches the proxy's kept connection
        guest.send(get("/2", "127.0.0.1:" + server.getLocalPort()));
        assertThat(guest.read("GET").body()).isEqualTo("ok");

        assertThat(accepted).hasValue(2);
        assertThat(counters.snapshot()).containsEntry("upstream_failures", 0L);
    }

    @Test
    void anH2cOfferIsDroppedAndTheRequestGoesOnInHttp11() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        Guest guest = guest(CONNECTED_TO_LOOPBACK);

        guest.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:" + a.port() + "\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n");
        Response response = guest.read("GET");

        assertThat(response.status()).isEqualTo(200);
        Headers seen = a.next().headers();
        assertThat(seen.containsKey("Upgrade")).isFalse();
        assertThat(seen.containsKey("Http2-settings")).isFalse();
    }

    @Test
    void garbageNeverMakesServeThrow() throws Exception {
        Upstream a = upstream("a");
        allowAll(a);
        Random random = new Random(8);
        for (int i = 0; i < 40; i++) {
            byte[] garbage = new byte[1 + random.nextInt(3000)];
            random.nextBytes(garbage);
            garbage[0] = (byte) ('A' + random.nextInt(26)); // not a blank line
            Guest guest = guest(CONNECTED_TO_LOOPBACK);
            guest.out.write(garbage);
            guest.endRequests();
            Response response = guest.read("GET");
            assertThat(response.status()).isBetween(400, 599);
            guest.assertServeReturnedNormally();
        }
        assertThat(a.seen).isEmpty();
    }

    // ---- the policy

    private void policy(String policyJson) {
        mapper = new SocketMapper(new VmPolicies(List.of(VmPolicy.parse(policyJson, "test"))));
    }

    private void allowAll(Upstream upstream) {
        policy("""
                {"vm": "vm1", "default": "deny", "acl": [{"allow": "http://127[.]0[.]0[.]1:%d/.*"}]}
                """.formatted(upstream.port()));
    }

    private Socket connect(SocketUri target) throws IOException {
        String host = target.host().startsWith("[") ? target.host().substring(1, target.host().length() - 1) : target.host();
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(InetAddress.getByName(host), target.port()), 5_000);
        upstreamConnections.incrementAndGet();
        return socket;
    }

    private static String get(String path, String host) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    // ---- the upstream servers

    private record Seen(String method, String target, Headers headers, byte[] body, int remotePort) {
    }

    private final class Upstream {
        final String name;
        final HttpServer server;
        final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
        final CountDownLatch firstBytes = new CountDownLatch(1);

        Upstream(String name) throws IOException {
            this.name = name;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/", this::handle);
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        Seen next() throws InterruptedException {
            Seen next = seen.poll(10, TimeUnit.SECONDS);
            assertThat(next).as("a request reached %s", name).isNotNull();
            return next;
        }

        private void handle(HttpExchange exchange) throws IOException {
            String method = exchange.getRequestMethod();
            String target = exchange.getRequestURI().toString();
            String path = exchange.getRequestURI().getPath();
            InputStream body = exchange.getRequestBody();
            byte[] received;
            if (path.endsWith("/stream")) {
                byte[] first = new byte[5];
                // Not readNBytes: its last read asks for 0 bytes, which the JDK's chunked stream answers by waiting for a chunk.
                for (int at = 0, n; at < first.length; at += n) {
                    n = body.read(first, at, first.length - at);
                    if (n < 0) {
                        throw new IOException("the body ended early");
                    }
                }
                firstBytes.countDown();
                byte[] rest = body.readAllBytes();
                received = Arrays.copyOf(first, first.length + rest.length);
                System.arraycopy(rest, 0, received, first.length, rest.length);
            } else {
                received = body.readAllBytes();
            }
            seen.add(new Seen(method, target, exchange.getRequestHeaders(), received, exchange.getRemoteAddress().getPort()));
            Headers headers = exchange.getResponseHeaders();
            headers.set("X-Upstream", name);
            headers.set("Content-Type", "text/plain");
            if (path.endsWith("/echo") || path.endsWith("/stream")) {
                exchange.sendResponseHeaders(200, received.length == 0 ? -1 : received.length);
                exchange.getResponseBody().write(received);
            } else if (path.endsWith("/empty")) {
                exchange.sendResponseHeaders(204, -1);
            } else if (path.endsWith("/chunked")) {
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                out.write("part one, ".getBytes(StandardCharsets.UTF_8));
                out.flush();
                out.write("part two".getBytes(StandardCharsets.UTF_8));
            } else {
                byte[] answer = ("hello from " + name + ": GET " + target).getBytes(StandardCharsets.UTF_8);
                if (method.equals("HEAD")) {
                    headers.set("Content-Length", Integer.toString(answer.length));
                    exchange.sendResponseHeaders(200, -1);
                } else {
                    exchange.sendResponseHeaders(200, answer.length);
                    exchange.getResponseBody().write(answer);
                }
            }
            exchange.close();
        }
    }

    private Upstream upstream(String name) throws IOException {
        Upstream upstream = new Upstream(name);
        resources.add(() -> upstream.server.stop(0));
        return upstream;
    }

    // ---- the guest's side

    private record Response(int status, String reason, Map<String, List<String>> headers, byte[] bytes) {
        String header(String name) {
            List<String> values = headers.get(name);
            return values == null ? null : values.getFirst();
        }

        String body() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** The guest's connection to a proxy that serves it on a virtual thread, as HostSession runs it. */
    private final class Guest implements AutoCloseable {
        final Socket client;
        final InputStream in;
        final OutputStream out;
        final CompletableFuture<Void> returned = new CompletableFuture<>();

        Guest(HttpProxy proxy, SocketUri connectedTo) throws IOException {
            try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                client = new Socket(listener.getInetAddress(), listener.getLocalPort());
                Socket served = listener.accept();
                Thread.ofVirtual().start(() -> {
                    try (served) {
                        try {
                            proxy.serve(served.getInputStream(), served.getOutputStream(), connectedTo);
                            returned.complete(null);
                        } catch (Throwable e) {
                            returned.completeExceptionally(e);
                            return;
                        }
                        // Like the vsock stream: the guest's unread bytes never turn the close into a reset.
                        served.shutdownOutput();
                        served.getInputStream().transferTo(OutputStream.nullOutputStream());
                    } catch (IOException e) {
                        // the test closed its end
                    }
                });
            }
            client.setSoTimeout(10_000);
            in = new BufferedInputStream(client.getInputStream());
            out = client.getOutputStream();
        }

        void send(String raw) throws IOException {
            out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** The guest sends nothing more. */
        void endRequests() throws IOException {
            client.shutdownOutput();
        }

        boolean atEnd() throws IOException {
            return in.read() < 0;
        }

        void assertServeReturnedNormally() throws Exception {
            assertThat(returned.get(10, TimeUnit.SECONDS)).isNull();
        }

        Response read(String method) throws IOException {
            String statusLine = line();
            assertThat(statusLine).as("a status line").isNotNull().startsWith("HTTP/1.1 ");
            int status = Integer.parseInt(statusLine.substring(9, 12));
            String reason = statusLine.length() > 13 ? statusLine.substring(13) : "";
            Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (String field = line(); !field.isEmpty(); field = line()) {
                int colon = field.indexOf(':');
                headers.computeIfAbsent(field.substring(0, colon), k -> new ArrayList<>()).add(field.substring(colon + 1).strip());
            }
            Response head = new Response(status, reason, headers, new byte[0]);
            if (method.equals("HEAD") || status < 200 || status == 204 || status == 304) {
                return head;
            }
            if ("chunked".equals(head.header("Transfer-Encoding"))) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                for (int size = Integer.parseInt(line(), 16); size > 0; size = Integer.parseInt(line(), 16)) {
                    body.write(in.readNBytes(size));
                    assertThat(line()).isEmpty();
                }
                assertThat(line()).as("no trailer fields").isEmpty();
                return new Response(status, reason, headers, body.toByteArray());
            }
            if (head.header("Content-Length") != null) {
                int length = Integer.parseInt(head.header("Content-Length"));
                byte[] body = in.readNBytes(length);
                assertThat(body).hasSize(length);
                return new Response(status, reason, headers, body);
            }
            return new Response(status, reason, headers, in.readAllBytes());
        }

        private String line() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b < 0) {
                    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
                }
                line.write(b);
            }
            String text = line.toString(StandardCharsets.ISO_8859_1);
            return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
        }

        @Override
        public void close() throws IOException {
            client.close();
        }
    }

    /** A proxy per guest connection, as HostSession makes them, counting together. */
    private Guest guest(SocketUri connectedTo) throws IOException {
        Guest guest = new Guest(new HttpProxy(uri -> mapper.map("vm1", uri), this::connect, counters), connectedTo);
        resources.add(guest);
        return guest;
    }
}
