package dev.vnet.lab;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The demo: builds the built-in lab (two hosts, networks blue and red that both use 10.0.0.0/24),
 * checks same-host and cross-host reachability with ping and a TCP transfer, checks that the two
 * networks stay apart despite equal addresses, prints a table, and removes the lab unless kept.
 */
public final class Demo {
    private static final long TRANSFER_BYTES = 64L << 20;

    /** One row of the demo's table. */
    public record Check(String name, LabChecks.Outcome outcome) {
    }

    private Demo() {
    }

    /** @return true when every check passed */
    public static boolean run(Lab.Launcher launcher, boolean keep, PrintStream out) {
        Topology topology = Topology.demo();
        long started = System.nanoTime();
        if (LabState.load(topology.name()).isPresent() || !Lab.namespacesOf(topology.name()).isEmpty()) {
            out.println("removing the demo lab left from an earlier run");
            Lab.down(topology.name());
        }
        out.println("creating lab '" + topology.name() + "': 2 hosts, networks blue and red (both 10.0.0.0/24), "
                + topology.vms().size() + " VMs, a controller");
        RunningLab lab = Lab.up(topology, launcher);
        List<Check> checks;
        try {
            out.printf("lab up in %.1f s; checking%n", (System.nanoTime() - started) / 1e9);
            checks = checks(lab);
            printTable(checks, out);
        } finally {
            if (keep) {
                out.println("lab kept: try  ip netns exec " + lab.vm("blue1").namespace() + " ping " + lab.vm("blue2").address()
                        + "  |  vnet agent stats --lab demo  |  vnet lab down demo");
            } else {
                List<String> removed = lab.down();
                out.println("removed " + removed.size() + " namespaces and agents");
            }
        }
        boolean allPassed = checks.stream().allMatch(c -> c.outcome().passed());
        out.printf("%s in %.1f s%n", allPassed ? "all checks passed" : "SOME CHECKS FAILED",
                (System.nanoTime() - started) / 1e9);
        return allPassed;
    }

    /** The demo's checks, in order; also what the integration test asserts. */
    public static List<Check> checks(RunningLab lab) {
        LabChecks check = new LabChecks(lab);
        String blue2 = lab.vm("blue2").address();
        String blue3 = lab.vm("blue3").address();
        String red1 = lab.vm("red1").address();
        String red2 = lab.vm("red2").address();
        List<Check> checks = new ArrayList<>();
        add(checks, "ping blue1 -> blue2 (" + blue2 + "), across hosts", () -> check.ping("blue1", blue2));
        add(checks, "ping blue1 -> blue3 (" + blue3 + "), same host", () -> check.ping("blue1", blue3));
        add(checks, "ping red1 -> red2 (" + red2 + "), across hosts", () -> check.ping("red1", red2));
        add(checks, "TCP 64 MB blue1 -> blue2, across hosts", () -> check.tcpTransfer("blue1", "blue2", blue2, TRANSFER_BYTES));
        add(checks, "TCP 64 MB blue1 -> blue3, same host", () -> check.tcpTransfer("blue1", "blue3", blue3, TRANSFER_BYTES));
        add(checks, "TCP 64 MB red2 -> red1, across hosts", () -> check.tcpTransfer("red2", "red1", red1, TRANSFER_BYTES));
        add(checks, "isolation: red1's " + red2 + " is red2, not blue2", () -> {
            long red2Before = lab.counters("host2").value("port.red2.tx_packets");
            long blue2Before = lab.counters("host2").value("port.blue2.tx_packets");
            LabChecks.Outcome ping = check.ping("red1", red2);
            long toRed2 = lab.counters("host2").value("port.red2.tx_packets") - red2Before;
            long toBlue2 = lab.counters("host2").value("port.blue2.tx_packets") - blue2Before;
            return new LabChecks.Outcome(ping.passed() && toRed2 >= 3 && toBlue2 == 0,
                    "red2 received " + toRed2 + " packets, blue2 " + toBlue2);
        });
        add(checks, "isolation: red1 cannot reach " + blue3 + " (only blue has it)", () -> {
            long before = lab.counters("host1").value("drop.token-refused");
            LabChecks.Outcome outcome = check.unreachable("red1", blue3);
            long refused = lab.counters("host1").value("drop.token-refused") - before;
            return new LabChecks.Outcome(outcome.passed() && refused > 0,
                    outcome.detail() + "; the registry refused the token, " + refused + " packets dropped");
        });
        return checks;
    }

    private static void add(List<Check> checks, String name, Supplier<LabChecks.Outcome> check) {
        LabChecks.Outcome outcome;
        try {
            outcome = check.get();
        } catch (RuntimeException e) {
            outcome = new LabChecks.Outcome(false, e.getMessage());
        }
        checks.add(new Check(name, outcome));
    }

    public static void printTable(List<Check> checks, PrintStream out) {
        int width = checks.stream().mapToInt(c -> c.name().length()).max().orElse(10);
        out.println();
        out.printf("  %-" + width + "s  %-6s %s%n", "check", "result", "evidence");
        out.printf("  %s  %s %s%n", "-".repeat(width), "------", "-".repeat(40));
        for (Check check : checks) {
            out.printf("  %-" + width + "s  %-6s %s%n", check.name(), check.outcome().passed() ? "pass" : "FAIL",
                    check.outcome().detail());
        }
        out.println();
    }
}
