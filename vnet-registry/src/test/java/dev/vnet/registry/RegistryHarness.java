package dev.vnet.registry;

import dev.vnet.registry.client.RegistryClient;
import dev.vnet.registry.server.CallerIdentity;
import dev.vnet.registry.server.RegistryGrpcService;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.store.KeyValue;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A registry over a store (in memory unless given one), its records under {@link RegistryService#STORE_PREFIX},
 * served in-process, with one client per caller identity (each through its own in-process server whose
 * interceptor fixes the identity, as the Unix socket does for admin) and a clock the test sets. Closing
 * it closes the store.
 */
final class RegistryHarness implements AutoCloseable {
    static final long START_SECONDS = 1_800_000_000L;

    final ConfigStore store;
    final AtomicLong clockMillis = new AtomicLong(START_SECONDS * 1000);
    final RegistryConfig config;
    RegistryService registry;
    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final Map<String, RegistryClient> clients = new HashMap<>();

    RegistryHarness() {
        this(RegistryConfig.defaults(), new InMemoryConfigStore());
    }

    RegistryHarness(RegistryConfig base, ConfigStore store) {
        this.store = store;
        this.config = base.withClock(() -> Instant.ofEpochMilli(clockMillis.get()));
        this.registry = new RegistryService(store, RegistryService.STORE_PREFIX, config);
    }

    /** The store key of a registry record named as in {@link StoredRecords} ("vms/a"). */
    static String key(String record) {
        return RegistryService.STORE_PREFIX + record;
    }

    /** The keys of the registry's records of one kind ({@link StoredRecords#VMS}, ...). */
    List<String> recordKeys(String kind) {
        return store.range(key(kind)).entries().stream().map(KeyValue::key).toList();
    }

    RegistryClient admin() {
        return client(RegistryService.ADMIN_IDENTITY);
    }

    RegistryClient client(String identity) {
        return clients.computeIfAbsent(identity, this::serve);
    }

    /** A new service over the same store, as after a restart; clients now reach the new one. */
    void restart() {
        closeServers();
        registry = new RegistryService(store, RegistryService.STORE_PREFIX, config);
    }

    /** Every store entry, values as text: equal snapshots mean nothing was written. */
    SortedMap<String, String> snapshot() {
        SortedMap<String, String> copy = new TreeMap<>();
        store.range("").entries().forEach(entry -> copy.put(entry.key(), Arrays.toString(entry.value())));
        return copy;
    }

    /** A raw channel whose calls are made by {@code identity}, for requests the client cannot send. */
    ManagedChannel channel(String identity) {
        String name = InProcessServerBuilder.generateName();
        try {
            servers.add(InProcessServerBuilder.forName(name).directExecutor()
                    .addService(ServerInterceptors.intercept(new RegistryGrpcService(registry), CallerIdentity.fixed(identity)))
                    .build().start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        channels.add(channel);
        return channel;
    }

    private RegistryClient serve(String identity) {
        return RegistryClient.over(channel(identity));
    }

    private void closeServers() {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(Server::shutdownNow);
        channels.clear();
        servers.clear();
        clients.clear();
    }

    @Override
    public void close() {
        closeServers();
        store.close();
    }
}
