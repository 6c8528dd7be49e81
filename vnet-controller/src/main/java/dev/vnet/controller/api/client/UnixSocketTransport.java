package dev.vnet.controller.api.client;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The API over a Unix domain socket: a small blocking HTTP/1.1 client, one connection per request
 * ({@code Connection: close}). The server sends Content-Length with every body, so that is the only framing
 * this reads (a response without one is read to the end of the stream, which the close marks; a 204 has
 * none and no body). A request
 * that takes longer than its timeout has its socket closed under it by a watchdog thread, which ends
 * the blocked read.
 */
final class UnixSocketTransport implements Transport {
    private static final int MAX_HEADER_BYTES = 64 * 1024;

    private final Path socket;

    UnixSocketTransport(Path socket) {
        this.socket = socket;
    }

    @Override
    public Exchange exchange(String method, String pathAndQuery, byte[] body, Duration timeout) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            Thread watchdog = Thread.ofVirtual().name("vnet-api-client-timeout").start(() -> {
                try {
                    Thread.sleep(timeout);
                    channel.close();
                } catch (InterruptedException | IOException e) {
                    // answered in time, or already closed
                }
            });
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
                writeRequest(channel, method, pathAndQuery, body);
                return readResponse(new BufferedInputStream(Channels.newInputStream(channel)));
            } catch (AsynchronousCloseException e) {
                throw new HttpTimeoutException("the controller did not answer " + method + " " + pathAndQuery + " within " + timeout.toSeconds() + " s");
            } finally {
                watchdog.interrupt();
            }
        }
    }

    private static void writeRequest(SocketChannel channel, String method, String pathAndQuery, byte[] body) throws IOException {
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n")
                .append("Host: localhost\r\n")
                .append("Accept: application/json\r\n")
                .append("Connection: close\r\n");
        if (body != null) {
            head.append("Content-Type: application/json\r\n").append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        ByteBuffer headBytes = ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        ByteBuffer bodyBytes = ByteBuffer.wrap(body == null ? new byte[0] : body);
        while (headBytes.hasRemaining() || bodyBytes.hasRemaining()) {
            channel.write(new ByteBuffer[]{headBytes, bodyBytes});
        }
    }

    private static Exchange readResponse(InputStream in) throws IOException {
        String statusLine = readLine(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("the controller's answer is not HTTP/1.1: '" + statusLine + "'");
        }
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("the controller's answer has no status code: '" + statusLine + "'");
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        int headerBytes = 0;
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            headerBytes += line.length();
            if (headerBytes > MAX_HEADER_BYTES) {
                throw new IOException("the controller's answer has more than " + MAX_HEADER_BYTES + " bytes of headers");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed header in the controller's answer: '" + line + "'");
            }
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        List<String> length = headers.get("content-length");
        byte[] body;
        if (status == 204 || status == 304 || status / 100 == 1) {
            body = new byte[0]; // no body by definition, and no Content-Length (RFC 9110 forbids one on a 204)
        } else if (length != null) {
            int bytes = Integer.parseInt(length.getFirst());
            body = in.readNBytes(bytes);
            if (body.length < bytes) {
                throw new IOException("the controller closed the connection after " + body.length + " of " + bytes + " bytes");
            }
        } else {
            body = in.readAllBytes();
        }
        return new Exchange(status, headers, body);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the controller closed the connection before the end of its answer's headers");
            }
            if (line.size() > MAX_HEADER_BYTES) {
                throw new IOException("a header line of the controller's answer is longer than " + MAX_HEADER_BYTES + " bytes");
            }
            line.write(b);
        }
        String text = line.toString(StandardCharsets.ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
    }

    @Override
    public void close() {
        // one connection per request: nothing stays open
    }
}
