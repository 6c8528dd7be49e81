package dev.vnet.controller.channel.client;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.ClassEntry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent links the client without the controller's server side: the client's classes refer to no
 * class of dev.vnet.controller.channel except the shared records and message conversions.
 */
class ClientIndependenceTest {
    private static final String CHANNEL = "dev/vnet/controller/channel/";
    private static final Set<String> SHARED = Set.of("HostState", "HostStateDiff", "MapDiff", "LayeredMap", "VmAttachment", "Route", "RouteKey",
            "ChannelMessages");

    @Test
    void theClientUsesOnlyTheSharedPartOfTheChannelPackage() throws IOException, URISyntaxException {
        Path classes = Path.of(AgentChannelClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Path> clientClasses;
        try (Stream<Path> files = Files.list(classes.resolve(CHANNEL + "client"))) {
            clientClasses = files.filter(file -> file.toString().endsWith(".class")).toList();
        }
        assertThat(clientClasses).isNotEmpty();
        Set<String> used = new TreeSet<>();
        for (Path file : clientClasses) {
            ClassFile.of().parse(file).constantPool().forEach(entry -> {
                if (entry instanceof ClassEntry type) {
                    used.add(type.asInternalName());
                }
            });
        }
        List<String> serverSide = used.stream()
                .filter(name -> name.startsWith(CHANNEL) && name.indexOf('/', CHANNEL.length()) < 0)
                .filter(name -> !SHARED.contains(name.substring(CHANNEL.length()).replaceFirst("\\$.*", "")))
                .toList();
        assertThat(serverSide).isEmpty();
    }
}
