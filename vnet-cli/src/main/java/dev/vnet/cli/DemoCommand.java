package dev.vnet.cli;

import dev.vnet.lab.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the demo: a 2-host lab, ping/TCP/isolation checks, a pass/fail table.",
                "Builds 2 hosts and 2 tenant networks that both use 10.0.0.0/24, with 5 VMs;",
                "checks ping and a TCP transfer between VMs across hosts and on one host, and",
                "that the networks stay apart even with equal addresses; then removes",
                "everything it created. Needs root."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--keep", description = "Leave the lab running (remove it later with: vnet lab down demo).")
    boolean keep;

    @Override
    public Integer call() {
        return Demo.run(Launchers.sameJvm(), keep, System.out) ? 0 : 1;
    }
}
