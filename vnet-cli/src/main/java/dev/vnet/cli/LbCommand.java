package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.api.client.ApiClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "lb", mixinStandardHelpOptions = true,
        description = {"Creates, lists, shows and deletes load balancers: a public address (VIP) with listener ports whose "
                + "flows the gateways spread over backend VMs of one network.",
                "Backends are VM names: deleting a backend VM drops it from the members until a VM of that name is back."},
        subcommands = {LbCommand.Create.class, ResourceCommands.ListAll.class, ResourceCommands.Show.class,
                ResourceCommands.Delete.class})
final class LbCommand implements ResourceCommands.Group {
    @Override
    public ResourceType type() {
        return ResourceType.LOADBALANCER;
    }

    /**
     * Sends only the options given: the controller fills in the rest (LoadBalancerSpec's defaults) and
     * refuses invalid values with the field named, so the rules live in one place.
     */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Creates a load balancer (again with the same options: the same one). Omitted options take the controller's defaults.")
    static final class Create extends ResourceCommands.Create {
        private static final Pattern PORT = Pattern.compile("([A-Za-z]+):([0-9]{1,5})");

        @Parameters(paramLabel = "NAME", description = "The load balancer's name, unique among load balancers.")
        String name;

        @Option(names = "--network", required = true, paramLabel = "ID|NAME", description = "The network of its backends.")
        String network;

        @Option(names = "--vip", required = true, paramLabel = "IPv4", description = "The public address (VIP), outside the network's subnet.")
        String vip;

        @Option(names = "--port", required = true, paramLabel = "PROTOCOL:PORT", description = "A listener port, tcp:80 or udp:53; repeatable.")
        List<String> ports;

        @Option(names = "--backend", required = true, paramLabel = "VM", description = "A backend VM of the network, by name; repeatable.")
        List<String> backends;

        @Option(names = "--mode", paramLabel = "MODE", description = "Forwarding: dnat (default; the destination becomes the VM's "
                + "address) or unchanged (the VM owns the VIP).")
        String mode;

        @Option(names = "--flow-identity", paramLabel = "IDENTITY", description = "What names a flow: 5-tuple (default), 3-tuple or 2-tuple.")
        String flowIdentity;

        @Option(names = "--table", paramLabel = "KIND", description = "The consistent mapping: maglev (default) or seed.")
        String table;

        @Option(names = "--table-size", paramLabel = "PRIME", description = "The Maglev table's size, a prime (default 65537).")
        Integer tableSize;

        @Option(names = "--points", paramLabel = "M", description = "The seed table's points per backend (default 100); implies --table seed.")
        Integer points;

        @Option(names = "--health", paramLabel = "TYPE", description = "The health check: tcp (default; on the first tcp port), icmp or http.")
        String health;

        @Option(names = "--health-port", paramLabel = "PORT", description = "The port tcp and http checks probe.")
        Integer healthPort;

        @Option(names = "--health-path", paramLabel = "PATH", description = "The path an http check gets (default /).")
        String healthPath;

        @Option(names = "--expect-status", paramLabel = "STATUS", description = "The status an http check expects (default 200).")
        Integer expectStatus;

        @Option(names = "--interval-ms", paramLabel = "MS", description = "Time between probes (default 1000).")
        Integer intervalMillis;

        @Option(names = "--timeout-ms", paramLabel = "MS", description = "A probe fails without an answer within this (default 500; below the interval).")
        Integer timeoutMillis;

        @Option(names = "--up", paramLabel = "N", description = "Successful probes in a row that make a backend up (default 2).")
        Integer up;

        @Option(names = "--down", paramLabel = "N", description = "Failed probes in a row that make a backend down (default 3).")
        Integer down;

        @Option(names = "--locality", description = "Gateways prefer backends on hosts with their own location label.")
        boolean locality;

        @Option(names = "--idle-timeout", paramLabel = "SECONDS", description = "How long an idle flow keeps its backend (default 300).")
        Integer idleTimeout;

        @Override
        ResourceType type() {
            return ResourceType.LOADBALANCER;
        }

        @Override
        ObjectNode fields(ApiClient client) {
            ObjectNode lb = ResourceCommands.JSON.createObjectNode().put("name", name).put("network", network).put("vip_address", vip);
            ArrayNode portArray = lb.putArray("ports");
            for (String port : ports) {
                Matcher matcher = PORT.matcher(port);
                if (!matcher.matches()) {
                    throw new ParameterException(spec.commandLine(), "--port must be PROTOCOL:PORT, e.g. tcp:80, not '" + port + "'");
                }
                portArray.addObject().put("protocol", matcher.group(1).toLowerCase(java.util.Locale.ROOT))
                        .put("port", Integer.parseInt(matcher.group(2)));
            }
            ArrayNode backendArray = lb.putArray("backends");
            backends.forEach(backendArray::add);
            putIfGiven(lb, "forwarding", mode);
            putIfGiven(lb, "flow_identity", flowIdentity);
            if (table != null || tableSize != null || points != null) {
                ObjectNode tableNode = lb.putObject("table");
                putIfGiven(tableNode, "kind", table != null ? table : points != null ? "seed" : null);
                putIfGiven(tableNode, "size", tableSize);
                putIfGiven(tableNode, "points", points);
            }
            ObjectNode check = ResourceCommands.JSON.createObjectNode();
            putIfGiven(check, "type", health);
            putIfGiven(check, "port", healthPort);
            putIfGiven(check, "path", healthPath);
            putIfGiven(check, "expected_status", expectStatus);
            putIfGiven(check, "interval_ms", intervalMillis);
            putIfGiven(check, "timeout_ms", timeoutMillis);
            putIfGiven(check, "up_threshold", up);
            putIfGiven(check, "down_threshold", down);
            if (!check.isEmpty()) {
                lb.set("health_check", check);
            }
            if (locality) {
                lb.put("locality", true);
            }
            putIfGiven(lb, "idle_timeout_seconds", idleTimeout);
            return lb;
        }

        private static void putIfGiven(ObjectNode node, String field, Object value) {
            if (value instanceof String text) {
                node.put(field, text);
            } else if (value instanceof Integer number) {
                node.put(field, number);
            }
        }
    }
}
