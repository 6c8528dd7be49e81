package dev.vnet.store;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class InMemoryConfigStoreTest extends ConfigStoreContract {
    @Override
    protected ConfigStore open() {
        return new InMemoryConfigStore();
    }

    @Test
    void aWatchFromAForgottenRevisionFailsWithTheCompactRevision() throws Exception {
        try (ConfigStore small = new InMemoryConfigStore(3)) {
            for (int i = 0; i < 6; i++) {
                small.put("k" + i, b("v"));
            }
            CompletableFuture<RuntimeException> failure = new CompletableFuture<>();
            small.watch("", 1, new WatchListener() {
                @Override
                public void onEvents(java.util.List<Event> events) {
                    failure.completeExceptionally(new AssertionError("events from a compacted revision: " + events));
                }

                @Override
                public void onError(RuntimeException error) {
                    failure.complete(error);
                }
            });
            RuntimeException error = failure.get(10, TimeUnit.SECONDS);
            assertThat(error).isInstanceOf(CompactedException.class);
            assertThat(((CompactedException) error).compactRevision()).isEqualTo(3);
        }
    }
}
