package dev.vnet.cli;

import dev.vnet.lab.Lab;

import java.util.List;

/** How the lab starts agents and the registry: this same JVM binary and class path, running {@code vnet}. */
final class Launchers {
    private Launchers() {
    }

    static Lab.Launcher sameJvm() {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new Lab.Launcher(List.of(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-XX:+UseSerialGC", "-Xms32m", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Vnet.class.getName()));
    }
}
