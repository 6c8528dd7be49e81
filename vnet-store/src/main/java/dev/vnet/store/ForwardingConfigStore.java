package dev.vnet.store;

import java.time.Duration;
import java.util.Optional;

/**
 * A store that hands every call to another: a decorator subclasses it to change one behaviour (the
 * controller's writer fences its writes; tests fail some writes, or share one store between nodes) and
 * keeps the rest.
 */
public class ForwardingConfigStore implements ConfigStore {
    protected final ConfigStore delegate;

    public ForwardingConfigStore(ConfigStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public long revision() {
        return delegate.revision();
    }

    @Override
    public Optional<KeyValue> get(String key) {
        return delegate.get(key);
    }

    @Override
    public Range range(String prefix) {
        return delegate.range(prefix);
    }

    @Override
    public TxnResult commit(Txn txn) {
        return delegate.commit(txn);
    }

    @Override
    public Watch watch(String prefix, long fromRevision, WatchListener listener) {
        return delegate.watch(prefix, fromRevision, listener);
    }

    @Override
    public Lease grantLease(Duration ttl) {
        return delegate.grantLease(ttl);
    }

    @Override
    public void keepAlive(long leaseId) {
        delegate.keepAlive(leaseId);
    }

    @Override
    public void revokeLease(long leaseId) {
        delegate.revokeLease(leaseId);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
