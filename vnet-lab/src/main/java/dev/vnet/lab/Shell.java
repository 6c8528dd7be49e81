package dev.vnet.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a time bound and captures its output (stdout and stderr merged). */
public final class Shell {
    private Shell() {
    }

    public record Result(List<String> command, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** Returns this result, or throws with the command and its output when it failed. */
        public Result orThrow() {
            if (!ok()) {
                throw new LabException(String.join(" ", command) + " failed (exit " + exitCode + "): " + output.strip());
            }
            return this;
        }
    }

    public static Result run(Duration timeout, List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "";
                }
            });
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(2, TimeUnit.SECONDS);
                return new Result(command, 124, "timed out after " + timeout.toSeconds() + " s");
            }
            return new Result(command, process.exitValue(), output.get(5, TimeUnit.SECONDS));
        } catch (IOException e) {
            return new Result(command, 127, "cannot run " + command.getFirst() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted while running " + String.join(" ", command));
        } catch (Exception e) {
            return new Result(command, 1, e.toString());
        }
    }

    public static Result run(List<String> command) {
        return run(Duration.ofSeconds(20), command);
    }

    public static Result run(String... command) {
        return run(List.of(command));
    }
}
