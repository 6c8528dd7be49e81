package dev.vnet.cli;

import dev.vnet.controller.api.client.ApiException;
import dev.vnet.lab.LabException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.UncheckedIOException;

/** The {@code vnet} command. */
@Command(name = "vnet", mixinStandardHelpOptions = true, version = "vnet 0.1.0",
        description = {"A software-defined virtual network for VMs: a lab of namespace hosts and VMs, and the agent "
                + "that forwards between them.",
                "network, subnet, port, vm, host, project and lb edit the controller's configuration through its API "
                        + "(exit 1: refused, 3: --wait timed out)."},
        subcommands = {DemoCommand.class, LabCommand.class, ControllerCommand.class, AgentCommand.class, GatewayCommand.class, RegistryCommand.class,
                NetworkCommand.class, SubnetCommand.class, PortCommand.class, VmCommand.class, HostCommand.class, ProjectCommand.class,
                LbCommand.class, VsockCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "The launcher script also takes:",
                "  ./vnet test               every test: ./mvnw verify with JDK 25",
                "  ./vnet bench dataplane    [--reps N] [--seconds S] [--write FILE], as root:",
                "                            TCP, UDP, ping, CPU/Gbit of vnet beside veth",
                "                            routing, kernel VXLAN, OVS userspace, wireguard-go"})
public final class Vnet {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Vnet());
        commandLine.setExecutionExceptionHandler((e, cl, parseResult) -> {
            if (e instanceof ApiException || e instanceof UncheckedIOException) {
                // The controller refused the request, or could not be reached: its message says why.
                cl.getErr().println("vnet: " + e.getMessage());
                return 1;
            }
            if (e instanceof LabException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
                cl.getErr().println("vnet: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return commandLine;
    }
}
