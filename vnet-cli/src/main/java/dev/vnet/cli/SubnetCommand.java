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

@Command(name = "subnet", mixinStandardHelpOptions = true,
        description = {"Creates, lists, shows and deletes a network's IPv4 subnet (one per network for now).",
                "Addresses are given from .2; .1 is the gateway's."},
        subcommands = {SubnetCommand.Create.class, ResourceCommands.ListAll.class, ResourceCommands.Show.class,
                ResourceCommands.Delete.class})
final class SubnetCommand implements ResourceCommands.Group {
    @Override
    public ResourceType type() {
        return ResourceType.SUBNET;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates a subnet in a network.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Mixin
        WaitOptions wait;

        @Parameters(paramLabel = "NAME", description = "The subnet's name, unique in its network.")
        String name;

        @Option(names = "--network", required = true, paramLabel = "ID|NAME", description = "The network.")
        String network;

        @Option(names = "--cidr", required = true, paramLabel = "CIDR", description = "The IPv4 subnet, e.g. 10.0.0.0/24 (/1 to /30).")
        String cidr;

        @Override
        public Integer call() {
            try (ApiClient client = api.connect()) {
                ObjectNode body = JsonNodeFactory.instance.objectNode();
                body.putObject("subnet").put("name", name)
                        .put("network_id", ResourceCommands.resolveId(client, ResourceType.NETWORK, network)).put("cidr", cidr);
                return ResourceCommands.create(spec, api, wait, client, ResourceType.SUBNET, body);
            }
        }
    }
}
