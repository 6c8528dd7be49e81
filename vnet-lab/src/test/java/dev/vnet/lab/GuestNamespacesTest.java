package dev.vnet.lab;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@link GuestNamespaces} changes on a VM namespace's {@code lo} for its additional addresses (no root needed). */
class GuestNamespacesTest {
    /** {@code ip -o -4 addr show dev lo} in a namespace holding two additional addresses. */
    private static final String SHOWN = """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            1: lo    inet 203.0.113.10/32 scope global lo\\       valid_lft forever preferred_lft forever
            1: lo    inet 10.1.0.100/32 scope global lo\\       valid_lft forever preferred_lft forever
            """;

    @Test
    void addsWhatIsMissingAndRemovesWhatWentAway() {
        GuestNamespaces.LoopbackChanges changes = GuestNamespaces.loopbackChanges(SHOWN, List.of("203.0.113.10", "198.51.100.7"));
        assertThat(changes.add()).containsExactly("198.51.100.7");
        assertThat(changes.remove()).containsExactly("10.1.0.100");
    }

    @Test
    void whatIsAlreadyRightChangesNothingAndLoopbackItselfIsNeverTouched() {
        GuestNamespaces.LoopbackChanges same = GuestNamespaces.loopbackChanges(SHOWN, List.of("10.1.0.100", "203.0.113.10"));
        assertThat(same.add()).isEmpty();
        assertThat(same.remove()).isEmpty();

        GuestNamespaces.LoopbackChanges none = GuestNamespaces.loopbackChanges(SHOWN, List.of());
        assertThat(none.remove()).containsExactly("203.0.113.10", "10.1.0.100");
        assertThat(none.add()).isEmpty();

        GuestNamespaces.LoopbackChanges fresh = GuestNamespaces.loopbackChanges(
                "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n", List.of("203.0.113.10"));
        assertThat(fresh.add()).containsExactly("203.0.113.10");
        assertThat(fresh.remove()).isEmpty();
        assertThat(GuestNamespaces.loopbackChanges("", List.of()).remove()).isEmpty();
    }
}
