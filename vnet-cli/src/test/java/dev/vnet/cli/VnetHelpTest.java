package dev.vnet.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class VnetHelpTest {
    private static String run(String... arguments) {
        CommandLine commandLine = Vnet.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        commandLine.execute(arguments);
        return out + err.toString();
    }

    @Test
    void helpExplainsEveryCommand() {
        assertThat(run("--help")).contains("demo", "Runs the demo", "lab", "Creates, removes and shows labs",
                "agent", "Runs a host's agent", "./vnet test", "./vnet bench dataplane");
        assertThat(run("lab", "--help")).contains("up", "topology file", "down", "also after a crash", "status");
        assertThat(run("lab", "up", "--help")).contains("TOPOLOGY.yaml", "--name");
        assertThat(run("demo", "--help")).contains("--keep", "10.0.0.0/24", "Needs root");
        assertThat(run("agent", "--help")).contains("--controller", "--tls-dir", "--host", "--vm-namespace-prefix", "--counters", "stats");
        assertThat(run("controller", "--help")).contains("--store", "etcd://", "--listen", "--api", "--api-socket", "/openapi.json");
        assertThat(run("registry", "--help")).contains("--listen", "--admin-socket", "--store", "--ttl", "never", "kill -9");
        assertThat(run("--help")).contains("registry", "Runs the VM registry");
        assertThat(run("agent", "stats", "--help")).contains("--lab", "--counters", "--json", "drops by reason", "tokens");
    }

    @Test
    void misuseGetsAClearMessageAndANonZeroExit() {
        assertThat(Vnet.commandLine().execute("agent")).isEqualTo(2);
        assertThat(run("agent")).contains("vnet agent needs --controller, --tls-dir, --host and --counters");
        assertThat(run("controller", "--store", "memory")).contains("vnet controller needs --api and/or --api-socket");
        assertThat(run("controller", "--store", "memory", "--api-socket", "/tmp/x.sock", "--listen", "127.0.0.1:1"))
                .contains("--listen needs --tls-dir");
        assertThat(run("registry", "--store", "memory")).contains("vnet registry needs --listen and/or --admin-socket");
        assertThat(run("registry", "--store", "memory", "--listen", "127.0.0.1:1")).contains("--listen needs --tls-dir");
        assertThat(run("lab", "up", "/nonexistent.yaml")).contains("topology file /nonexistent.yaml does not exist");
        assertThat(run("agent", "stats", "--lab", "no-such-lab")).contains("no lab named 'no-such-lab'");
        assertThat(run("frobnicate")).contains("Unmatched argument");
    }
}
