package dev.vnet.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;

/** {@code --wait} and {@code --timeout} of the commands that write. */
final class WaitOptions {
    /** The API's limit for one wait. */
    static final int MAX_TIMEOUT_SECONDS = 120;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--wait", description = "Return only when every affected host has applied the change "
            + "(exit 3, naming the hosts that have not, if that takes longer than --timeout).")
    boolean wait;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long --wait waits, 0 to " + MAX_TIMEOUT_SECONDS + " s (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    Duration timeout() {
        if (timeoutSeconds < 0 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
            throw new ParameterException(command.commandLine(), "--timeout must be 0 to " + MAX_TIMEOUT_SECONDS + " seconds, not " + timeoutSeconds);
        }
        return Duration.ofSeconds(timeoutSeconds);
    }
}
