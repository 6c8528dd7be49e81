package dev.vnet.lab;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The lab's journal: what was created, written to disk <em>before</em> each creation, so that
 * {@code vnet lab down} removes everything even when {@code lab up} crashed half-way. Writes replace
 * the file atomically (write, then rename), so a crash never leaves a torn journal.
 */
public final class LabState {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public record Agent(String host, long pid) {
    }

    /** The journal's on-disk form. */
    public record Journal(String name, String phase, List<String> namespaces, List<Agent> agents) {
    }

    private final Path file;
    private final String name;
    private String phase = "creating";
    private final List<String> namespaces = new ArrayList<>();
    private final List<Agent> agents = new ArrayList<>();

    private LabState(Path file, String name) {
        this.file = file;
        this.name = name;
    }

    public static LabState create(String lab) {
        LabState state = new LabState(LabNames.labDir(lab).resolve("state.json"), lab);
        state.save();
        return state;
    }

    public static Optional<LabState> load(String lab) {
        Path file = LabNames.labDir(lab).resolve("state.json");
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        LabState state = new LabState(file, lab);
        try {
            Journal journal = JSON.readValue(file.toFile(), Journal.class);
            state.phase = journal.phase();
            if (journal.namespaces() != null) {
                state.namespaces.addAll(journal.namespaces());
            }
            if (journal.agents() != null) {
                state.agents.addAll(journal.agents());
            }
        } catch (IOException e) {
            // A journal we cannot read still means "this lab exists": down falls back to the name prefix.
            state.phase = "unreadable: " + e.getMessage();
        }
        return Optional.of(state);
    }

    /** Names of labs that have a journal. */
    public static List<String> labs() {
        if (!Files.isDirectory(LabNames.LABS_DIR)) {
            return List.of();
        }
        try (var dirs = Files.list(LabNames.LABS_DIR)) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new LabException("cannot list " + LabNames.LABS_DIR + ": " + e.getMessage(), e);
        }
    }

    public synchronized void namespace(String namespace) {
        namespaces.add(namespace);
        save();
    }

    public synchronized void agent(String host, long pid) {
        agents.add(new Agent(host, pid));
        save();
    }

    public synchronized void phase(String newPhase) {
        phase = newPhase;
        save();
    }

    public String name() {
        return name;
    }

    public synchronized String phase() {
        return phase;
    }

    public synchronized List<String> namespaces() {
        return List.copyOf(namespaces);
    }

    public synchronized List<Agent> agents() {
        return List.copyOf(agents);
    }

    private void save() {
        try {
            Files.createDirectories(file.getParent());
            Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
            JSON.writeValue(temporary.toFile(), new Journal(name, phase, namespaces, agents));
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new LabException("cannot write lab journal " + file + ": " + e.getMessage(), e);
        }
    }
}
