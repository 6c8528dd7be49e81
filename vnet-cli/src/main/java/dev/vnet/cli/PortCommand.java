package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "port", mixinStandardHelpOptions = true,
        description = {"Creates, lists, shows and deletes ports: a network's NICs, each with an address and a MAC.",
                "A VM uses one ('vnet vm create --port')."},
        subcommands = {PortCommand.Create.class, ResourceCommands.ListAll.class, ResourceCommands.Show.class,
                ResourceCommands.Delete.class})
final class PortCommand implements ResourceCommands.Group {
    @Override
    public ResourceType type() {
        return ResourceType.PORT;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates a port in a network's subnet.")
    static final class Create extends ResourceCommands.Create {
        @Parameters(paramLabel = "NAME", description = "The port's name, unique in its subnet.")
        String name;

        @Option(names = "--network", required = true, paramLabel = "ID|NAME", description = "The network.")
        String network;

        @Option(names = "--ip", paramLabel = "ADDRESS", description = "The address (default: the lowest free one from .2).")
        String address;

        @Override
        ResourceType type() {
            return ResourceType.PORT;
        }

        @Override
        ObjectNode fields(ApiClient client) {
            ObjectNode port = ResourceCommands.JSON.createObjectNode().put("name", name)
                    .put("network_id", ResourceCommands.resolveId(client, ResourceType.NETWORK, network));
            if (address != null) {
                port.putArray("fixed_ips").addObject().put("ip_address", address);
            }
            return port;
        }
    }
}
