package dev.vnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vnet.controller.api.client.ApiClient;
import dev.vnet.controller.api.client.ApiResponse;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The controller process (embedded store) is SIGKILLed in the middle of a stream of API writes; after a
 * restart on the same directory every write the API acknowledged is there, with what it was given.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ControllerKill9Test {
    @TempDir
    Path temp;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void everyAcknowledgedWriteSurvivesKill9(long seed) throws Exception {
        Random random = new Random(seed);
        Path store = temp.resolve("store");
        Path socket = temp.resolve("api.sock");
        Process controller = start(store, socket);
        Map<String, JsonNode> acknowledged = new LinkedHashMap<>();
        String network;
        try (ApiClient api = await(socket, controller)) {
            api.post("/v2.0/hosts", Map.of("host", Map.of("name", "h1", "address", "10.255.0.1")));
            network = api.post("/v2.0/networks", Map.of("network", Map.of("name", "blue"))).body().path("network").path("id").asText();
            api.post("/v2.0/subnets", Map.of("subnet", Map.of("name", "s", "network_id", network, "cidr", "10.0.0.0/16")));
            int killAfter = 20 + random.nextInt(40);
            // Writes go on from another thread while this one kills the process after `killAfter` acknowledgements.
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int i = 0; ; i++) {
                    try {
                        ApiResponse response = api.post("/v2.0/vms", Map.of("vm", Map.of("name", "vm" + i, "host", "h1", "network_id", network)));
                        synchronized (acknowledged) {
                            acknowledged.put("vm" + i, response.body().path("vm"));
                            acknowledged.notifyAll();
                        }
                    } catch (RuntimeException cutOff) {
                        return;
                    }
                }
            });
            synchronized (acknowledged) {
                while (acknowledged.size() < killAfter && writer.isAlive()) {
                    acknowledged.wait(100);
                }
            }
            controller.destroyForcibly();
            assertThat(controller.waitFor(10, TimeUnit.SECONDS)).isTrue();
            writer.join(TimeUnit.SECONDS.toMillis(40));
        }
        assertThat(acknowledged.size()).isGreaterThanOrEqualTo(20);

        Process restarted = start(store, socket);
        try (ApiClient api = await(socket, restarted)) {
            Map<String, JsonNode> present = new LinkedHashMap<>();
            for (JsonNode vm : api.get("/v2.0/vms").body().path("vms")) {
                present.put(vm.path("name").asText(), vm);
            }
            synchronized (acknowledged) {
                for (Map.Entry<String, JsonNode> write : acknowledged.entrySet()) {
                    assertThat(present).as("acknowledged " + write.getKey()).containsKey(write.getKey());
                    JsonNode after = present.get(write.getKey());
                    for (String field : List.of("id", "ip_address", "mac_address", "host_port", "port_id")) {
                        assertThat(after.path(field)).as(write.getKey() + " " + field).isEqualTo(write.getValue().path(field));
                    }
                }
            }
            // The graph and the registry agree after the restart: a new VM gets a fresh address and port.
            JsonNode next = api.post("/v2.0/vms", Map.of("vm", Map.of("name", "after", "host", "h1", "network_id", network))).body().path("vm");
            assertThat(present.values()).extracting(v -> v.path("ip_address").asText()).doesNotContain(next.path("ip_address").asText());
            assertThat(present.values()).extracting(v -> v.path("host_port").asInt()).doesNotContain(next.path("host_port").asInt());
        } finally {
            restarted.destroy();
            restarted.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Process start(Path store, Path socket) throws IOException {
        List<String> command = new ArrayList<>(Launchers.sameJvm().vnetCommand());
        command.addAll(List.of("controller", "--store", store.toString(), "--api-socket", socket.toString()));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(temp.resolve("controller.log").toFile())).start();
    }

    private ApiClient await(Path socket, Process controller) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && controller.isAlive()) {
            if (Files.exists(socket)) {
                ApiClient client = ApiClient.connect("unix:" + socket);
                try {
                    client.get("/v2.0/hosts");
                    return client;
                } catch (RuntimeException notYet) {
                    client.close();
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the controller did not start:\n" + Files.readString(temp.resolve("controller.log")));
    }
}
