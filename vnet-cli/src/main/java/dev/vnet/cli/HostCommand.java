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

@Command(name = "host", mixinStandardHelpOptions = true,
        description = {"Creates, lists, shows and deletes hosts: the machines whose agents run VMs.",
                "A host's name is its agent's identity (the CN of its certificate)."},
        subcommands = {HostCommand.Create.class, ResourceCommands.ListAll.class, ResourceCommands.Show.class,
                ResourceCommands.Delete.class})
final class HostCommand implements ResourceCommands.Group {
    @Override
    public ResourceType type() {
        return ResourceType.HOST;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates a host.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Mixin
        WaitOptions wait;

        @Parameters(paramLabel = "NAME", description = "The host's name.")
        String name;

        @Option(names = "--address", required = true, paramLabel = "IPv4", description = "Its underlay address, unique among hosts.")
        String address;

        @Override
        public Integer call() {
            try (ApiClient client = api.connect()) {
                ObjectNode body = JsonNodeFactory.instance.objectNode();
                body.putObject("host").put("name", name).put("address", address);
                return ResourceCommands.create(spec, api, wait, client, ResourceType.HOST, body);
            }
        }
    }
}
