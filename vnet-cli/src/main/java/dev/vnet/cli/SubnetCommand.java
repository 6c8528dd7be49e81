package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
    static final class Create extends ResourceCommands.Create {
        @Parameters(paramLabel = "NAME", description = "The subnet's name, unique in its network.")
        String name;

        @Option(names = "--network", required = true, paramLabel = "ID|NAME", description = "The network.")
        String network;

        @Option(names = "--cidr", required = true, paramLabel = "CIDR", description = "The IPv4 subnet, e.g. 10.0.0.0/24 (/1 to /30).")
        String cidr;

        @Override
        ResourceType type() {
            return ResourceType.SUBNET;
        }

        @Override
        ObjectNode fields(ApiClient client) {
            return ResourceCommands.JSON.createObjectNode().put("name", name)
                    .put("network_id", ResourceCommands.resolveId(client, ResourceType.NETWORK, network)).put("cidr", cidr);
        }
    }
}
