package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "vm", mixinStandardHelpOptions = true,
        description = {"Creates, lists, shows and deletes VMs: each runs on a host with one port.",
                "Deleting a VM leaves its port (and address); a VM created again with that name takes it back."},
        subcommands = {VmCommand.Create.class, ResourceCommands.ListAll.class, ResourceCommands.Show.class,
                ResourceCommands.Delete.class})
final class VmCommand implements ResourceCommands.Group {
    @Override
    public ResourceType type() {
        return ResourceType.VM;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Creates a VM on a host, in a network (a port named after it is made) or on a port.")
    static final class Create extends ResourceCommands.Create {
        @Parameters(paramLabel = "NAME", description = "The VM's name, unique in its project.")
        String name;

        @Option(names = "--host", required = true, paramLabel = "ID|NAME", description = "The host it runs on.")
        String host;

        @ArgGroup(multiplicity = "1")
        Nic nic;

        static final class Nic {
            @Option(names = "--network", paramLabel = "ID|NAME", description = "Its network: a port named after the VM is created there.")
            String network;

            @Option(names = "--port", paramLabel = "ID|NAME", description = "An existing free port.")
            String port;
        }

        @Option(names = "--project", paramLabel = "ID|NAME", description = "Its project (default: the network's).")
        String project;

        @Override
        ResourceType type() {
            return ResourceType.VM;
        }

        @Override
        ObjectNode fields(ApiClient client) {
            ObjectNode vm = ResourceCommands.JSON.createObjectNode().put("name", name).put("host", host);
            if (nic.network != null) {
                vm.put("network_id", ResourceCommands.resolveId(client, ResourceType.NETWORK, nic.network));
            } else {
                vm.put("port_id", ResourceCommands.resolveId(client, ResourceType.PORT, nic.port));
            }
            if (project != null) {
                vm.put("project_id", ResourceCommands.resolveId(client, ResourceType.PROJECT, project));
            }
            return vm;
        }
    }
}
