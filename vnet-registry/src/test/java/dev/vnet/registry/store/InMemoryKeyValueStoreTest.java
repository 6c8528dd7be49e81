package dev.vnet.registry.store;

class InMemoryKeyValueStoreTest extends KeyValueStoreContract {
    @Override
    protected KeyValueStore newStore() {
        return new InMemoryKeyValueStore();
    }
}
