package dev.vnet.lab;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a VM is attached on its host: its namespace and the TAP name the agent creates for it. Only
 * the host's hypervisor (here, the lab) knows this; the registry knows everything else. The lab writes
 * one file per host and {@code vnet agent --attachments} reads it.
 */
public record Attachment(String vm, String namespace, String tap) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static List<Attachment> read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), new TypeReference<List<Attachment>>() { });
    }

    public static void write(Path file, List<Attachment> attachments) throws IOException {
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), attachments);
    }
}
