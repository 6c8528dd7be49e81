package dev.vnet.controller.api;

import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.api.client.ApiException;
import dev.vnet.controller.api.client.ApiResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.vnet.controller.api.ApiFixture.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The HTTP side: the Unix socket, keep-alive, pipelining, framing, and the client over both transports. */
class ApiServerTest {
    @TempDir
    Path directory;

    @Test
    void theUnixSocketIsMode0600ServesTheApiAndIsRemovedAtClose() throws IOException {
        Path socket = directory.resolve("controller.sock");
        try (ApiFixture api = new ApiFixture(socket); ApiClient client = ApiClient.connect("unix:" + socket)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            ApiResponse created = client.post("/v2.0/hosts", body("host", "name", "h1", "address", "10.255.0.1"));
            assertThat(created.status()).isEqualTo(201);
            assertThat(created.version()).hasValue(api.controller.version());
            assertThat(client.get("/v2.0/hosts/h1").body().path("host").path("address").asText()).isEqualTo("10.255.0.1");
            assertThat(client.delete("/v2.0/hosts/h1").status()).isEqualTo(204);
            assertThatThrownBy(() -> client.get("/v2.0/hosts/h1")).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(404);
                assertThat(e.type()).isEqualTo("HostNotFound");
                assertThat(e.getMessage()).isEqualTo("no host h1");
            });
            try (var files = Files.list(directory)) {
                assertThat(files).containsExactly(socket); // the private directory it was bound in is gone
            }
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void aStaleSocketIsReplacedButALiveOneOrAnotherFileIsNot() throws IOException {
        Path socket = directory.resolve("controller.sock");
        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(socket));
        } // closed: the file stays, nothing listens
        assertThat(socket).exists();
        try (ApiFixture api = new ApiFixture(socket)) {
            assertThatThrownBy(() -> new ApiFixture(socket)).isInstanceOf(IOException.class).hasMessageContaining("another process is listening");
        }
        Path regular = directory.resolve("file");
        Files.writeString(regular, "not a socket");
        assertThatThrownBy(() -> new ApiFixture(regular)).isInstanceOf(IOException.class).hasMessageContaining("is not a socket");
        assertThat(Files.readString(regular)).isEqualTo("not a socket");
    }

    @Test
    void oneConnectionServesPipelinedRequestsInOrderEachFramed() throws IOException {
        try (ApiFixture api = new ApiFixture();
             Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", api.server.tcpAddress().orElseThrow().getPort()));
            String project = "{\"project\": {\"name\": \"p\"}}";
            String id = api.client.post("/v2.0/projects", body("project", "name", "q")).body().path("project").path("id").asText();
            String requests = "POST /v2.0/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + project.length() + "\r\n\r\n" + project
                    + "GET /v2.0/projects HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "DELETE /v2.0/projects/nothing HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "DELETE /v2.0/projects/{id} HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v2.0/projects?name=p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            requests = requests.replace("{id}", id);
            socket.getOutputStream().write(requests.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            List<RawResponse> responses = readAll(socket.getInputStream());
            assertThat(responses).extracting(RawResponse::status).containsExactly(201, 200, 404, 204, 200);
            assertThat(responses.get(1).body()).contains("\"name\":\"p\"", "\"name\":\"q\"");
            assertThat(responses.get(2).body()).contains("ProjectNotFound");
            assertThat(responses.get(4).body()).contains("\"name\":\"p\"").doesNotContain("\"name\":\"q\"");
        }
    }

    @Test
    void aDeleteAnswers204WithAVersionAndNoBody() throws IOException {
        try (ApiFixture api = new ApiFixture(); Socket socket = new Socket()) {
            String id = api.client.post("/v2.0/projects", body("project", "name", "p")).body().path("project").path("id").asText();
            socket.connect(new InetSocketAddress("127.0.0.1", api.server.tcpAddress().orElseThrow().getPort()));
            socket.getOutputStream().write(("DELETE /v2.0/projects/" + id + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            List<RawResponse> responses = readAll(socket.getInputStream());
            assertThat(responses).hasSize(1);
            assertThat(responses.getFirst().status()).isEqualTo(204);
            // RFC 9110 forbids Content-Length on a 204 (Netty's encoder removes it): it has no body by its status.
            assertThat(responses.getFirst().head()).doesNotContainIgnoringCase("content-length").containsIgnoringCase("x-vnet-version: ");
        }
    }

    @Test
    void malformedHttpIs400AndClosesTheConnection() throws IOException {
        try (ApiFixture api = new ApiFixture(); Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", api.server.tcpAddress().orElseThrow().getPort()));
            socket.getOutputStream().write("GET /v2.0/projects HTTP/1.1\r\nContent-Length: banana\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            List<RawResponse> responses = readAll(socket.getInputStream());
            assertThat(responses).extracting(RawResponse::status).containsExactly(400);
        }
    }

    @Test
    void theClientNamesAnUnreachableControllerAndRefusesOtherEndpoints() {
        Path missing = directory.resolve("missing.sock");
        try (ApiClient client = ApiClient.connect("unix:" + missing)) {
            assertThatThrownBy(() -> client.get("/v2.0/hosts")).isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("cannot reach the controller at unix:" + missing);
        }
        assertThatThrownBy(() -> ApiClient.connect("https://localhost:1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be http://HOST:PORT or unix:/PATH");
        assertThatThrownBy(() -> ApiClient.connect("http://localhost")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ApiClient.connect("unix:")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theClientOverTcpReportsTheServersError() throws IOException {
        try (ApiFixture api = new ApiFixture()) {
            assertThatThrownBy(() -> api.client.post("/v2.0/hosts", body("host", "name", "h1"))).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.type()).isEqualTo("BadRequest");
                assertThat(e.getMessage()).isEqualTo("field 'host.address' is required");
            });
        }
    }

    private record RawResponse(int status, String head, String body) {
    }

    private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3}) ");
    private static final Pattern LENGTH = Pattern.compile("(?im)^content-length: *(\\d+)$");

    /** Reads responses until the server closes the connection, each framed by its Content-Length (a 204 by its status). */
    private static List<RawResponse> readAll(InputStream in) throws IOException {
        List<RawResponse> responses = new ArrayList<>();
        while (true) {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                head.write(b);
                if (head.size() >= 4 && head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                    break;
                }
            }
            if (b < 0) {
                return responses;
            }
            String text = head.toString(StandardCharsets.US_ASCII);
            Matcher status = STATUS.matcher(text);
            Matcher length = LENGTH.matcher(text);
            assertThat(status.find()).as(text).isTrue();
            int code = Integer.parseInt(status.group(1));
            if (code == 204) {
                responses.add(new RawResponse(code, text, ""));
                continue;
            }
            assertThat(length.find()).as("every response with a body has a Content-Length: " + text).isTrue();
            String body = new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.UTF_8);
            responses.add(new RawResponse(code, text, body));
        }
    }
}
