package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

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
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Mixin
        WaitOptions wait;

        @Parameters(paramLabel = "NAME", description = "The network's name, unique in its project.")
        String name;

        @Option(names = "--project", paramLabel = "ID|NAME", description = "Its project (default: the project named 'default').")
        String project;

        @Override
        public Integer call() {
            try (ApiClient client = api.connect()) {
                ObjectNode body = JsonNodeFactory.instance.objectNode();
                ObjectNode network = body.putObject("network").put("name", name);
                if (project != null) {
                    network.put("project_id", ResourceCommands.resolveId(client, ResourceType.PROJECT, project));
                }
                return ResourceCommands.create(spec, api, wait, client, ResourceType.NETWORK, body);
            }
        }
    }
}
