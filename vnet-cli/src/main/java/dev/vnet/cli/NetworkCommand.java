package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "network", mixinStandardHelpOptions = true,
        description = {"Creates, lists, shows and deletes virtual networks (the controller's API).",
                "A network has one IPv4 subnet ('vnet subnet create'); its VMs reach each other, and nothing else."},
        subcommands = {NetworkCommand.Create.class, ResourceCommands.ListAll.class, ResourceCommands.Show.class,
                ResourceCommands.Delete.class})
final class NetworkCommand implements ResourceCommands.Group {
    @Override
    public ResourceType type() {
        return ResourceType.NETWORK;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Creates a network (again with the same name: the same network).")
    static final class Create extends ResourceCommands.Create {
        @Parameters(paramLabel = "NAME", description = "The network's name, unique in its project.")
        String name;

        @Option(names = "--project", paramLabel = "ID|NAME", description = "Its project (default: the project named 'default').")
        String project;

        @Override
        ResourceType type() {
            return ResourceType.NETWORK;
        }

        @Override
        ObjectNode fields(ApiClient client) {
            ObjectNode network = ResourceCommands.JSON.createObjectNode().put("name", name);
            if (project != null) {
                network.put("project_id", ResourceCommands.resolveId(client, ResourceType.PROJECT, project));
            }
            return network;
        }
    }
}
