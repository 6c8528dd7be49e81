package dev.vnet.dataplane;

import dev.vnet.wire.VnpHeader;
import dev.vnet.wire.VnpToken;
import org.agrona.concurrent.EpochClock;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** The registry's token rules in memory, for data-plane tests: same network allowed, others by rule. */
final class InMemoryTokenAuthority implements TokenSource {
    record Vm(String name, int network, int address, int host, int port, byte[] key) {
    }

    private final Map<String, Vm> vms = new HashMap<>();
    private final Set<String> allowed = new HashSet<>();
    private final EpochClock clock;
    long ttlSeconds = 600;
    boolean neverExpire;
    boolean down;
    /** When set, requests stay pending in {@link #pending} until the test completes them. */
    boolean deferred;
    final List<Runnable> pending = new ArrayList<>();
    int requests;

    InMemoryTokenAuthority(EpochClock clock) {
        this.clock = clock;
    }

    void add(Vm vm) {
        vms.put(vm.name(), vm);
    }

    void allow(String source, String destination) {
        allowed.add(source + ">" + destination);
    }

    @Override
    public synchronized CompletableFuture<TokenGrant> request(String sourceVm, int destinationAddress) {
        requests++;
        CompletableFuture<TokenGrant> answer = new CompletableFuture<>();
        Runnable decide = () -> {
            if (down) {
                answer.completeExceptionally(new IOException("registry unreachable"));
                return;
            }
            Vm source = vms.get(sourceVm);
            Vm destination = vms.values().stream()
                    .filter(v -> v.address() == destinationAddress
                            && (v.network() == source.network() || allowed.contains(source.name() + ">" + v.name())))
                    .findFirst().orElse(null);
            if (destination == null) {
                answer.completeExceptionally(new TokenRefusedException("no VM with that address in the network of " + sourceVm));
                return;
            }
            long expiry = neverExpire ? VnpHeader.EXPIRY_NEVER : clock.time() / 1000 + ttlSeconds;
            long token = new VnpToken(destination.key()).compute(source.host(), source.port(), source.address(),
                    destination.address(), expiry);
            answer.complete(new TokenGrant(destination.host(), destination.port(), token, expiry));
        };
        if (deferred) {
            pending.add(decide);
        } else {
            decide.run();
        }
        return answer;
    }

    void completePending() {
        List<Runnable> now = new ArrayList<>(pending);
        pending.clear();
        now.forEach(Runnable::run);
    }
}
