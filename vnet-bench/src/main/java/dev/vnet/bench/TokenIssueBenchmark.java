package dev.vnet.bench;

import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.Vm;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpToken;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Tokens issued per second on the registry's issue path without gRPC ({@code RegistryService.requestToken}:
 * identity check, destination lookup, policy, expiry, HMAC). The target is at least 1 M tokens/s per core.
 *
 * <p>The registry holds 2 networks of 200 VMs on 4 hosts with an allow rule per cross-network pair
 * requested. {@link #sameNetwork} and {@link #otherNetworkAllowed} cycle through 200 destinations so the
 * per-thread HMAC cache holds many keys, as a busy registry's would; {@link #anchorHmacOnly} is the bare
 * {@link VnpToken#compute} with one key, the floor the lookups and checks add to.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class TokenIssueBenchmark {
    private static final int VMS_PER_NETWORK = 200;
    private InMemoryConfigStore store;
    private RegistryService registry;
    private int[] blueAddresses;
    private int[] redAddresses;
    private VnpToken anchor;
    private final int sourceHost = Ipv4Address.parse("10.255.0.1");

    @Setup
    public void setUp() {
        store = new InMemoryConfigStore();
        registry = new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        registry.createNetwork("blue", 0, "10.0.0.0/16");
        registry.createNetwork("red", 0, "10.0.0.0/16");
        for (int host = 1; host <= 4; host++) {
            registry.registerHost("h" + host, "10.255.0." + host);
        }
        blueAddresses = new int[VMS_PER_NETWORK];
        redAddresses = new int[VMS_PER_NETWORK];
        for (int i = 0; i < VMS_PER_NETWORK; i++) {
            String host = "h" + (1 + i % 4);
            blueAddresses[i] = registry.createVm("blue" + i, "blue", host, null).address();
            Vm red = registry.createVm("red" + i, "red", host, null);
            redAddresses[i] = red.address();
            registry.allowPair("blue0", red.name());
        }
        anchor = new VnpToken(new byte[VnpToken.KEY_LENGTH]);
    }

    @TearDown
    public void tearDown() {
        store.close();
    }

    @State(Scope.Thread)
    public static class Cursor {
        int next;

        int advance() {
            int index = next;
            next = index + 1 == VMS_PER_NETWORK ? 0 : index + 1;
            return index;
        }
    }

    @Benchmark
    public long sameNetwork(Cursor cursor) {
        return registry.requestToken("h1", "blue0", blueAddresses[cursor.advance()], null).token();
    }

    @Benchmark
    public long otherNetworkAllowed(Cursor cursor) {
        return registry.requestToken("h1", "blue0", redAddresses[cursor.advance()], "red").token();
    }

    @Benchmark
    public long anchorHmacOnly(Cursor cursor) {
        return anchor.compute(sourceHost + cursor.advance(), 47901, 0x0A000002, 0x0A000003, 1_800_000_000L);
    }
}
