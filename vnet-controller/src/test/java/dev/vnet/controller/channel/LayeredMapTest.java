package dev.vnet.controller.channel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class LayeredMapTest {
    @Test
    void everyCopyHoldsWhatAPlainMapWouldThroughLayersAndFlattenings() {
        Random random = new Random(42);
        Map<Integer, String> model = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            model.put(i, "v" + i);
        }
        LayeredMap<Integer, String> map = LayeredMap.of(model);
        for (int step = 0; step < 2000; step++) {
            Map<Integer, String> upserts = new HashMap<>();
            List<Integer> removals = new ArrayList<>();
            for (int n = random.nextInt(4); n > 0; n--) {
                upserts.put(random.nextInt(1200), "s" + step);
            }
            for (int n = random.nextInt(4); n > 0; n--) {
                int key = random.nextInt(1200);
                if (!upserts.containsKey(key)) {
                    removals.add(key);
                }
            }
            Map<Integer, String> before = new HashMap<>(model);
            LayeredMap<Integer, String> previous = map;
            model.putAll(upserts);
            removals.forEach(model::remove);
            map = map.with(upserts, removals);

            assertThat(map).hasSize(model.size()).isEqualTo(model);
            assertThat(map.hashCode()).isEqualTo(model.hashCode());
            for (int probe = 0; probe < 5; probe++) {
                int key = random.nextInt(1200);
                assertThat(map.get(key)).isEqualTo(model.get(key));
                assertThat(map.containsKey(key)).isEqualTo(model.containsKey(key));
            }
            assertThat(previous).as("a copy leaves its origin alone").isEqualTo(before);
            MapDiff<String> diff = MapDiff.between(previous, map);
            MapDiff<String> plain = MapDiff.between(before, model);
            assertThat(diff.added()).containsExactlyInAnyOrderElementsOf(plain.added());
            assertThat(diff.removed()).containsExactlyInAnyOrderElementsOf(plain.removed());
            assertThat(diff.changed()).containsExactlyInAnyOrderElementsOf(plain.changed());
        }
    }

    @Test
    void anEmptyChangeIsTheSameMapAndRemovingEverythingIsEmpty() {
        LayeredMap<String, String> map = LayeredMap.of(Map.of("a", "1", "b", "2"));
        assertThat(map.with(Map.of(), List.of())).isSameAs(map);
        LayeredMap<String, String> none = map.with(Map.of(), List.of("a", "b", "c"));
        assertThat(none).isEmpty();
        assertThat(none.containsKey("a")).isFalse();
        assertThat(none.with(Map.of("a", "3"), List.of())).containsExactly(Map.entry("a", "3"));
    }
}
