package dev.vnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the demo and the integration test check, with real tools inside the VMs: {@code ping} for
 * reachability and {@code iperf3} for a TCP transfer.
 */
public final class LabChecks {
    private static final Pattern RTT = Pattern.compile("= [\\d.]+/([\\d.]+)/");
    private static final int IPERF_PORT = 5201;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One check's verdict and the evidence behind it. */
    public record Outcome(boolean passed, String detail) {
    }

    private final RunningLab lab;

    public LabChecks(RunningLab lab) {
        this.lab = lab;
    }

    /** Three echo requests from {@code vm} to {@code address}; passes when all three are answered. */
    public Outcome ping(String vm, String address) {
        Shell.Result result = lab.exec(vm, Duration.ofSeconds(10), "ping", "-c", "3", "-i", "0.2", "-W", "2", "-q", address);
        if (!result.ok()) {
            return new Outcome(false, "no reply: " + lastLine(result.output()));
        }
        Matcher rtt = RTT.matcher(result.output());
        return new Outcome(true, rtt.find() ? "rtt avg " + rtt.group(1) + " ms" : "3/3 replies");
    }

    /** Passes when {@code address} does NOT answer {@code vm}'s pings. */
    public Outcome unreachable(String vm, String address) {
        Shell.Result result = lab.exec(vm, Duration.ofSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "1", "-q", address);
        return result.ok()
                ? new Outcome(false, "answered: " + lastLine(result.output()))
                : new Outcome(true, "no reply, as expected");
    }

    /**
     * Moves {@code bytes} over one TCP connection from {@code client} to an iperf3 server in {@code server}
     * at {@code serverAddress}; passes when the server received them all.
     */
    public Outcome tcpTransfer(String client, String server, String serverAddress, long bytes) {
        Process iperfServer = lab.spawn(server, "iperf3", "-s", "-1", "-p", Integer.toString(IPERF_PORT));
        try {
            if (!awaitListening(server)) {
                return new Outcome(false, "iperf3 server in " + server + " did not start (is iperf3 installed?)");
            }
            Shell.Result result = lab.exec(client, Duration.ofSeconds(30), "iperf3", "-c", serverAddress,
                    "-p", Integer.toString(IPERF_PORT), "-n", Long.toString(bytes), "-J", "--connect-timeout", "3000");
            JsonNode report = parse(result.output());
            // iperf3's receiver summary is cut when the sender stops, so it may trail; the sender's
            // count is what TCP acknowledged, and TCP acknowledges only what the peer received.
            JsonNode sent = report.path("end").path("sum_sent");
            if (!result.ok() || sent.path("bytes").asLong(-1) < bytes) {
                String error = report.path("error").asText(lastLine(result.output()));
                return new Outcome(false, "transfer failed: " + error);
            }
            return new Outcome(true, String.format("%d MB acknowledged, %.2f Gbit/s", sent.path("bytes").asLong() >> 20,
                    sent.path("bits_per_second").asDouble() / 1e9));
        } finally {
            iperfServer.destroyForcibly();
        }
    }

    private boolean awaitListening(String server) {
        for (int i = 0; i < 100; i++) {
            Shell.Result sockets = lab.exec(server, Duration.ofSeconds(5), "ss", "-Hltn", "sport", "= :" + IPERF_PORT);
            if (sockets.ok() && !sockets.output().isBlank()) {
                return true;
            }
            Lab.sleep(50);
        }
        return false;
    }

    private static JsonNode parse(String output) {
        int start = output.indexOf('{');
        try {
            return start < 0 ? JSON.createObjectNode() : JSON.readTree(output.substring(start));
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    private static String lastLine(String output) {
        String[] lines = output.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
