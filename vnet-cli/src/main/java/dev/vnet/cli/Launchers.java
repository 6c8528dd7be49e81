package dev.vnet.cli;

import dev.vnet.lab.Lab;

import java.util.List;

/** How the lab starts agents: this same JVM binary and class path, running {@code vnet agent}. */
final class Launchers {
    private Launchers() {
    }

    static Lab.AgentLauncher sameJvm() {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new Lab.AgentLauncher(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-Xms32m", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Vnet.class.getName(), "agent"));
    }
}
