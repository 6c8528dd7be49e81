package dev.vnet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.api.client.ApiException;
import dev.vnet.controller.api.client.ApiResponse;
import dev.vnet.controller.channel.SyncStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * What the resource commands ({@code vnet network|subnet|port|vm|host|project|lb}) share: {@code list},
 * {@code show} and {@code delete}, which are the same for every resource (their parent command says
 * which), resolving a name to an id, printing a table or the API's JSON, and {@code --wait}.
 *
 * <p>Names stand for ids everywhere: an argument is first taken as an id, and if there is no resource
 * with that id, as a name, which must then name exactly one resource of that kind (subnet and port
 * names are unique only within their network, so those can be ambiguous; the error lists the ids).
 *
 * <p>Exit codes: 0 done; 1 the controller refused the request or could not be reached (the message is
 * printed as {@code vnet: ...}); 2 a usage error; 3 with {@code --wait}: the change was made but not
 * every affected host applied it in time (the hosts are named on stderr).
 */
final class ResourceCommands {
    static final int NOT_APPLIED_IN_TIME = 3;

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ResourceCommands() {
    }

    /** A resource's command ({@code vnet network}); its list, show and delete subcommands ask it which resource. */
    interface Group {
        ResourceType type();
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the ${PARENT-COMMAND-NAME}s.")
    static final class ListAll implements Callable<Integer> {
        @ParentCommand
        Group group;

        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Option(names = "--name", paramLabel = "NAME", description = "Only those with this name.")
        String name;

        @Override
        public Integer call() {
            ResourceType type = group.type();
            try (ApiClient client = api.connect()) {
                ApiResponse response = client.get(type.collection() + (name == null ? "" : "?name=" + encode(name)));
                PrintWriter out = spec.commandLine().getOut();
                if (api.json) {
                    printJson(out, response.body());
                } else {
                    printTable(out, type.columns(), response.body().path(type.plural()));
                }
                out.flush();
                return 0;
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one ${PARENT-COMMAND-NAME}, by id or name.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        Group group;

        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Parameters(paramLabel = "ID|NAME", description = "The ${PARENT-COMMAND-NAME}'s id or name.")
        String idOrName;

        @Override
        public Integer call() {
            ResourceType type = group.type();
            try (ApiClient client = api.connect()) {
                JsonNode resource = resolve(client, type, idOrName);
                PrintWriter out = spec.commandLine().getOut();
                if (api.json) {
                    printJson(out, JSON.createObjectNode().set(type.singular(), resource));
                } else {
                    printFields(out, resource);
                }
                out.flush();
                return 0;
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Deletes a ${PARENT-COMMAND-NAME}, by id or name, and what it owns.",
                    "Refused while something else uses it (a VM its port, a host its VMs) unless --force."})
    static final class Delete implements Callable<Integer> {
        @ParentCommand
        Group group;

        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Mixin
        WaitOptions wait;

        @Parameters(paramLabel = "ID|NAME", description = "The ${PARENT-COMMAND-NAME}'s id or name.")
        String idOrName;

        @Option(names = "--force", description = "Delete also what uses it: a network's bound ports are taken from their VMs, "
                + "a host's VMs are deleted.")
        boolean force;

        @Override
        public Integer call() {
            ResourceType type = group.type();
            var timeout = wait.timeout();
            if (force && !type.deleteTakesForce()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--force does not apply to a " + spec.parent().name()
                        + ": nothing else uses it");
            }
            try (ApiClient client = api.connect()) {
                JsonNode resource = resolve(client, type, idOrName);
                String id = resource.path("id").asText();
                ApiResponse response = client.delete(type.collection() + "/" + encode(id) + (force ? "?force=true" : ""));
                if (!api.json) {
                    spec.commandLine().getOut().println("deleted " + type.singular() + " " + resource.path("name").asText() + " (" + id + ")");
                    spec.commandLine().getOut().flush();
                }
                return awaitIfAsked(spec, wait.wait, timeout, client, response);
            }
        }
    }

    /**
     * What every {@code create} command shares: the controller to ask, waiting for the hosts, and sending
     * {@code {type: fields}}; a subclass declares its own options and builds the fields.
     */
    abstract static class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ApiOptions api;

        @Mixin
        WaitOptions wait;

        abstract ResourceType type();

        /** The new resource's fields; names given where ids go are resolved through {@code client}. */
        abstract ObjectNode fields(ApiClient client);

        @Override
        public Integer call() {
            try (ApiClient client = api.connect()) {
                ObjectNode body = JSON.createObjectNode();
                body.set(type().singular(), fields(client));
                return create(spec, api, wait, client, type(), body);
            }
        }
    }

    /** Sends a create, prints what it answered, and waits for the hosts if asked; the exit code. */
    static int create(CommandSpec spec, ApiOptions api, WaitOptions wait, ApiClient client, ResourceType type, JsonNode body) {
        var timeout = wait.timeout();
        ApiResponse response = client.post(type.collection(), body);
        PrintWriter out = spec.commandLine().getOut();
        if (api.json) {
            printJson(out, response.body());
        } else {
            printFields(out, response.body().path(type.singular()));
        }
        out.flush();
        return awaitIfAsked(spec, wait.wait, timeout, client, response);
    }

    private static int awaitIfAsked(CommandSpec spec, boolean wait, java.time.Duration timeout, ApiClient client, ApiResponse response) {
        if (!wait) {
            return 0;
        }
        long version = response.version().orElseThrow(() -> new IllegalStateException("the controller's answer has no "
                + ApiResponse.VERSION_HEADER + " header to wait for"));
        SyncStatus status = client.awaitSync(version, timeout);
        if (status.complete()) {
            return 0;
        }
        PrintWriter err = spec.commandLine().getErr();
        err.println("vnet: not applied within " + timeout.toSeconds() + " s by host" + (status.pendingHosts().size() == 1 ? " " : "s ")
                + String.join(", ", status.pendingHosts()) + " (version " + version + "); the change itself is made");
        err.flush();
        return NOT_APPLIED_IN_TIME;
    }

    /**
     * The resource an id or a name stands for.
     *
     * @throws ApiException 404 if there is none, 409 if the name is ambiguous
     */
    static JsonNode resolve(ApiClient client, ResourceType type, String idOrName) {
        try {
            return client.get(type.collection() + "/" + encode(idOrName)).body().path(type.singular());
        } catch (ApiException e) {
            if (e.status() != 404) {
                throw e;
            }
        }
        JsonNode named = client.get(type.collection() + "?name=" + encode(idOrName)).body().path(type.plural());
        if (named.isEmpty()) {
            throw new ApiException(404, "NotFound", "no " + type.singular() + " with id or name '" + idOrName + "'");
        }
        if (named.size() > 1) {
            List<String> ids = new ArrayList<>();
            named.forEach(resource -> ids.add(resource.path("id").asText()));
            throw new ApiException(409, "Ambiguous", named.size() + " " + type.plural() + " are named '" + idOrName
                    + "' (" + String.join(", ", ids) + "); give an id");
        }
        return named.get(0);
    }

    static String resolveId(ApiClient client, ResourceType type, String idOrName) {
        return resolve(client, type, idOrName).path("id").asText();
    }

    /** Aligned columns under their headers; every column but the last padded to its widest value. */
    static void printTable(PrintWriter out, List<ResourceType.Column> columns, JsonNode rows) {
        List<List<String>> lines = new ArrayList<>();
        lines.add(columns.stream().map(ResourceType.Column::header).toList());
        rows.forEach(row -> lines.add(columns.stream().map(column -> column.value().apply(row)).toList()));
        int[] widths = new int[columns.size()];
        for (List<String> line : lines) {
            for (int i = 0; i < line.size(); i++) {
                widths[i] = Math.max(widths[i], line.get(i).length());
            }
        }
        for (List<String> line : lines) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < line.size(); i++) {
                text.append(i == line.size() - 1 ? line.get(i) : String.format("%-" + widths[i] + "s  ", line.get(i)));
            }
            out.println(text.toString().stripTrailing());
        }
    }

    /** One resource as FIELD VALUE lines, in the API's order; lists joined by commas, objects as JSON. */
    static void printFields(PrintWriter out, JsonNode resource) {
        List<ResourceType.Column> columns = List.of(new ResourceType.Column("FIELD", field -> field.path("k").asText()),
                new ResourceType.Column("VALUE", field -> field.path("v").asText()));
        var rows = JSON.createArrayNode();
        for (Map.Entry<String, JsonNode> field : resource.properties()) {
            rows.addObject().put("k", field.getKey()).put("v", text(field.getValue()));
        }
        printTable(out, columns, rows);
    }

    private static String text(JsonNode value) {
        if (value.isNull()) {
            return "";
        }
        if (value.isValueNode()) {
            return value.asText();
        }
        if (value.isArray()) {
            List<String> items = new ArrayList<>();
            value.forEach(item -> items.add(item.isValueNode() ? item.asText() : item.toString()));
            return String.join(", ", items);
        }
        return value.toString();
    }

    static void printJson(PrintWriter out, JsonNode json) {
        try {
            out.println(JSON.writeValueAsString(json));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
