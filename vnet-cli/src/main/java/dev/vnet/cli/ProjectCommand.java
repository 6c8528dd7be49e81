package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

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
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Mixin
        WaitOptions wait;

        @Parameters(paramLabel = "NAME", description = "The project's name.")
        String name;

        @Override
        public Integer call() {
            try (ApiClient client = api.connect()) {
                ObjectNode body = JsonNodeFactory.instance.objectNode();
                body.putObject("project").put("name", name);
                return ResourceCommands.create(spec, api, wait, client, ResourceType.PROJECT, body);
            }
        }
    }
}
