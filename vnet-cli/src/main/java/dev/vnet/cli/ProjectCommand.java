package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "project", mixinStandardHelpOptions = true,
        description = {"Creates, lists, shows and deletes projects: they own networks and VMs.",
                "Deleting a project deletes everything it owns."},
        subcommands = {ProjectCommand.Create.class, ResourceCommands.ListAll.class, ResourceCommands.Show.class,
                ResourceCommands.Delete.class})
final class ProjectCommand implements ResourceCommands.Group {
    @Override
    public ResourceType type() {
        return ResourceType.PROJECT;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates a project.")
    static final class Create extends ResourceCommands.Create {
        @Parameters(paramLabel = "NAME", description = "The project's name.")
        String name;

        @Override
        ResourceType type() {
            return ResourceType.PROJECT;
        }

        @Override
        ObjectNode fields(ApiClient client) {
            return ResourceCommands.JSON.createObjectNode().put("name", name);
        }
    }
}
