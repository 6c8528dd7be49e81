package dev.vnet.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the {@code vnet} command in this JVM, as an operator would, and returns what it printed. */
final class VnetRun {
    private VnetRun() {
    }

    /** Runs {@code vnet ARGUMENTS}, which must succeed; returns its standard output. */
    static String vnet(String... arguments) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(out, true));
        try {
            assertThat(Vnet.commandLine().execute(arguments)).as("exit code of vnet " + String.join(" ", arguments)).isZero();
        } finally {
            System.setOut(original);
        }
        return out.toString();
    }
}
