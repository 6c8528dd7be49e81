package dev.vnet.cli;

import dev.vnet.dataplane.TokenGrant;
import dev.vnet.dataplane.TokenRefusedException;
import dev.vnet.dataplane.TokenSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FailoverTokenSourceTest {
    private static final TokenGrant GRANT = new TokenGrant(1, 2, 3, 4);

    private record Node(AtomicInteger asked, CompletableFuture<TokenGrant> answer) implements TokenSource {
        Node(CompletableFuture<TokenGrant> answer) {
            this(new AtomicInteger(), answer);
        }

        @Override
        public CompletableFuture<TokenGrant> request(String sourceVm, int destinationAddress) {
            asked.incrementAndGet();
            return answer;
        }
    }

    @Test
    void anUnreachableNodeIsSkippedAndTheNodeThatAnsweredIsAskedFirstNextTime() {
        Node down = new Node(CompletableFuture.failedFuture(new IllegalStateException("UNAVAILABLE")));
        Node up = new Node(CompletableFuture.completedFuture(GRANT));
        FailoverTokenSource tokens = new FailoverTokenSource(List.of(down, up));
        assertThat(tokens.request("a", 1).join()).isEqualTo(GRANT);
        assertThat(tokens.request("a", 1).join()).isEqualTo(GRANT);
        assertThat(down.asked()).hasValue(1);
        assertThat(up.asked()).hasValue(2);
    }

    @Test
    void aRefusalIsAnAnswerAndEveryNodeDownFailsOnce() {
        Node refuses = new Node(CompletableFuture.failedFuture(new TokenRefusedException("policy")));
        Node other = new Node(CompletableFuture.completedFuture(GRANT));
        assertThatThrownBy(() -> new FailoverTokenSource(List.of(refuses, other)).request("a", 1).join())
                .hasCauseInstanceOf(TokenRefusedException.class);
        assertThat(other.asked()).hasValue(0);

        Node down1 = new Node(CompletableFuture.failedFuture(new IllegalStateException("down 1")));
        Node down2 = new Node(CompletableFuture.failedFuture(new IllegalStateException("down 2")));
        assertThatThrownBy(() -> new FailoverTokenSource(List.of(down1, down2)).request("a", 1).join()).hasMessageContaining("down 2");
        assertThat(down1.asked()).hasValue(1);
        assertThat(down2.asked()).hasValue(1);
    }
}
