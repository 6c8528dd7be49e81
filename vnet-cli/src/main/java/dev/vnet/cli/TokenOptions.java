package dev.vnet.cli;

import dev.vnet.registry.RegistryConfig;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.time.Duration;

/** The token rules a registry issues by, for the commands that run one ({@code registry}, {@code controller}). */
final class TokenOptions {
    @Option(names = "--ttl", defaultValue = "600", description = "Token lifetime: seconds, an ISO-8601 duration, or 'never' (default ${DEFAULT-VALUE}).")
    String ttl;

    @Option(names = "--skew", defaultValue = "5", description = "Clock skew receivers allow, seconds (default ${DEFAULT-VALUE}).")
    long skewSeconds;

    RegistryConfig config() {
        return RegistryConfig.defaults().withTokenTtl(RegistryConfig.parseTokenTtl(ttl)).withClockSkew(Duration.ofSeconds(skewSeconds));
    }

    /** An {@code IP:PORT} option's value; the message names the option. */
    static InetSocketAddress address(String option, String text) {
        int colon = text.lastIndexOf(':');
        try {
            if (colon < 1) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes IP:PORT, not '" + text + "'");
        }
    }
}
