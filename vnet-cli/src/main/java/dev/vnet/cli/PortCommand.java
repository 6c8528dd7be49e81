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
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Mixin
        WaitOptions wait;

        @Parameters(paramLabel = "NAME", description = "The port's name, unique in its subnet.")
        String name;

        @Option(names = "--network", required = true, paramLabel = "ID|NAME", description = "The network.")
        String network;

        @Option(names = "--ip", paramLabel = "ADDRESS", description = "The address (default: the lowest free one from .2).")
        String address;

        @Override
        public Integer call() {
            try (ApiClient client = api.connect()) {
                ObjectNode body = JsonNodeFactory.instance.objectNode();
                ObjectNode port = body.putObject("port").put("name", name)
                        .put("network_id", ResourceCommands.resolveId(client, ResourceType.NETWORK, network));
                if (address != null) {
                    port.putArray("fixed_ips").addObject().put("ip_address", address);
                }
                return ResourceCommands.create(spec, api, wait, client, ResourceType.PORT, body);
            }
        }
    }
}
