package dev.vnet.controller.cluster;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class HostOwnershipTest {
    private static List<String> hosts(int count) {
        return IntStream.range(0, count).mapToObj(i -> "host" + i).toList();
    }

    private static Map<String, String> owners(List<String> hosts, List<String> nodes) {
        Map<String, String> owners = new HashMap<>();
        hosts.forEach(h -> owners.put(h, HostOwnership.ownerOf(h, nodes).orElseThrow()));
        return owners;
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void whenANodeLeavesOnlyItsHostsMoveAndEachToItsNextPreference(long seed) {
        Random random = new Random(seed);
        List<String> nodes = new ArrayList<>(List.of("ctl-a", "ctl-b", "ctl-c", "ctl-d"));
        List<String> hosts = hosts(2_000);
        Map<String, String> before = owners(hosts, nodes);
        String leaving = nodes.remove(random.nextInt(nodes.size()));
        Map<String, String> after = owners(hosts, nodes);
        for (String host : hosts) {
            if (before.get(host).equals(leaving)) {
                List<String> preference = HostOwnership.preference(host, List.of("ctl-a", "ctl-b", "ctl-c", "ctl-d"));
                assertThat(after.get(host)).isEqualTo(preference.get(1));
            } else {
                assertThat(after.get(host)).as(host + " stays").isEqualTo(before.get(host));
            }
        }
    }

    @ParameterizedTest(name = "{0} nodes")
    @ValueSource(ints = {2, 3, 5})
    void eachNodeGetsAboutItsShareAndEveryNodeComputesTheSameOwners(int nodeCount) {
        List<String> nodes = IntStream.range(0, nodeCount).mapToObj(i -> "node-" + i).toList();
        List<String> hosts = hosts(10_000);
        Map<String, Integer> counts = new HashMap<>();
        owners(hosts, nodes).values().forEach(n -> counts.merge(n, 1, Integer::sum));
        assertThat(counts.keySet()).isEqualTo(Set.copyOf(nodes));
        double share = 10_000.0 / nodeCount;
        counts.values().forEach(count -> assertThat((double) count).isBetween(share * 0.9, share * 1.1));
        // The order nodes are listed in does not matter.
        List<String> reversed = new ArrayList<>(nodes);
        java.util.Collections.reverse(reversed);
        assertThat(owners(hosts, reversed)).isEqualTo(owners(hosts, nodes));
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {7})
    void aJoiningNodeTakesHostsOnlyForItself(long seed) {
        List<String> nodes = new ArrayList<>(List.of("a", "b", "c"));
        List<String> hosts = hosts(3_000);
        Map<String, String> before = owners(hosts, nodes);
        nodes.add("d");
        Map<String, String> after = owners(hosts, nodes);
        long moved = hosts.stream().filter(h -> !after.get(h).equals(before.get(h))).count();
        assertThat(hosts.stream().filter(h -> !after.get(h).equals(before.get(h)))).allMatch(h -> after.get(h).equals("d"));
        assertThat((double) moved).isBetween(3_000 / 4.0 * 0.85, 3_000 / 4.0 * 1.15);
        assertThat(HostOwnership.ownerOf("h", List.of())).isEmpty();
    }
}
