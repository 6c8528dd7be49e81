package dev.vnet.controller.cluster;

import dev.vnet.store.Compare;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.store.Op;
import dev.vnet.store.Txn;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FencedConfigStoreTest {
    private static byte[] b(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void onlyTheWriterThatStillHoldsTheKeyWritesAndAStaleOneWritesNothing() {
        InMemoryConfigStore store = new InMemoryConfigStore();
        FencedConfigStore fenced = new FencedConfigStore(store, WriterElection.KEY);
        assertThatThrownBy(() -> fenced.put("/a", b("1"))).isInstanceOf(FencedConfigStore.NotWriterException.class)
                .hasMessageContaining("not the writer");

        long won = store.put(WriterElection.KEY, b("node a"));
        fenced.fence(won);
        fenced.put("/a", b("1"));
        assertThat(fenced.putIfAbsent("/a", b("2"))).as("the caller's own comparison still decides").isFalse();
        assertThat(store.get("/a").orElseThrow().value()).isEqualTo(b("1"));

        store.put(WriterElection.KEY, b("node b")); // another node won meanwhile
        long before = store.revision();
        assertThatThrownBy(() -> fenced.put("/a", b("3"))).isInstanceOf(FencedConfigStore.NotWriterException.class)
                .hasMessageContaining("no longer the writer");
        assertThat(store.revision()).as("nothing written").isEqualTo(before);
        assertThat(fenced.get("/a").orElseThrow().value()).as("reads pass").isEqualTo(b("1"));
        assertThatThrownBy(() -> fenced.put("/b", b("4"))).as("and it stays refused").isInstanceOf(FencedConfigStore.NotWriterException.class);
    }

    @Test
    void aTransactionWithAnElseBranchIsRefused() {
        InMemoryConfigStore store = new InMemoryConfigStore();
        FencedConfigStore fenced = new FencedConfigStore(store, WriterElection.KEY);
        fenced.fence(store.put(WriterElection.KEY, b("a")));
        assertThatThrownBy(() -> fenced.commit(Txn.begin().when(Compare.absent("/x")).then(Op.put("/x", b("1"))).orElse(Op.delete("/y"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
