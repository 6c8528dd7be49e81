package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
    static final class Create extends ResourceCommands.Create {
        @Parameters(paramLabel = "NAME", description = "The host's name.")
        String name;

        @Option(names = "--address", required = true, paramLabel = "IPv4", description = "Its underlay address, unique among hosts.")
        String address;

        @Option(names = "--location", paramLabel = "LABEL",
                description = "Its location label (zone, rack, site), which its VMs carry as load balancer members.")
        String location;

        @Override
        ResourceType type() {
            return ResourceType.HOST;
        }

        @Override
        ObjectNode fields(ApiClient client) {
            ObjectNode host = ResourceCommands.JSON.createObjectNode().put("name", name).put("address", address);
            if (location != null) {
                host.put("location", location);
            }
            return host;
        }
    }
}
