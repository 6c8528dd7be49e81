package dev.vnet.dataplane;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Device configuration done once per VM at start-up, through iproute2 (netlink from Java would be a
 * project of its own; nothing here is on the per-packet path).
 */
final class DeviceCommands {
    private DeviceCommands() {
    }

    /** Gives the TAP the VM's MAC and MTU and moves it into the VM's namespace in one netlink request. */
    static void moveToNamespace(String device, String mac, int mtu, String namespace) {
        run(List.of("ip", "link", "set", "dev", device, "address", mac, "mtu", Integer.toString(mtu),
                "netns", namespace));
    }

    static void run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in 10 s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command.getFirst() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        }
    }
}
