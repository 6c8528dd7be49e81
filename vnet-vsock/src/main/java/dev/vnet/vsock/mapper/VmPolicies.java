package dev.vnet.vsock.mapper;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The policy of every VM, one per VM name, replaced as a whole: the mapper reads one immutable map
 * through a volatile field, so a command sees either the old set or the new one, never a mixture,
 * and a reload that fails anywhere changes nothing.
 */
public final class VmPolicies {
    private volatile Map<String, VmPolicy> byVm = Map.of();

    public VmPolicies() {
    }

    /** @throws IllegalArgumentException when two policies name the same VM */
    public VmPolicies(Collection<VmPolicy> policies) {
        replace(policies);
    }

    public Optional<VmPolicy> find(String vm) {
        return Optional.ofNullable(byVm.get(vm));
    }

    /** The policies in force, by VM name. */
    public Map<String, VmPolicy> all() {
        return byVm;
    }

    /** @throws IllegalArgumentException when two policies name the same VM; the previous set stays */
    public void replace(Collection<VmPolicy> policies) {
        Map<String, VmPolicy> next = new HashMap<>();
        for (VmPolicy policy : policies) {
            if (next.putIfAbsent(policy.vm(), policy) != null) {
                throw new IllegalArgumentException("two policies for vm '" + policy.vm() + "'");
            }
        }
        byVm = Map.copyOf(next);
    }

    /**
     * Replaces every policy with those of the {@code *.json} files directly in {@code directory}
     * (see {@link VmPolicy} for the format). All or nothing: if any file is invalid, or two files
     * name the same VM, the policies in force stay and the exception lists every problem, one line
     * per file.
     *
     * @return how many policies are now in force
     * @throws IllegalArgumentException when a file is invalid
     * @throws IOException when the directory or a file cannot be read
     */
    public int reload(Path directory) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "*.json")) {
            stream.forEach(files::add);
        }
        files.sort(null);
        Map<String, Path> fileOfVm = new TreeMap<>();
        List<VmPolicy> policies = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path file : files) {
            try {
                VmPolicy policy = VmPolicy.load(file);
                Path earlier = fileOfVm.putIfAbsent(policy.vm(), file);
                if (earlier != null) {
                    problems.add(file + ": vm '" + policy.vm() + "' already has a policy in " + earlier);
                } else {
                    policies.add(policy);
                }
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("policies in " + directory + " not reloaded; the " + byVm.size()
                    + " in force stay:\n" + String.join("\n", problems));
        }
        replace(policies);
        return policies.size();
    }
}
