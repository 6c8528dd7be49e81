package dev.vnet.store;

/** The store in memory only: for tests and for throwaway runs. Loses everything when closed. */
public final class InMemoryConfigStore extends LocalConfigStore {
    public InMemoryConfigStore() {
        this(DEFAULT_HISTORY);
    }

    /** With a history of at most {@code historyLimit} changes for watches to resume from. */
    public InMemoryConfigStore(int historyLimit) {
        super(historyLimit);
        startLeaseReaper();
    }

    @Override
    protected void persist(StoreState.Commit commit) {
    }

    @Override
    protected void closeEngine() {
    }

    @Override
    public String toString() {
        return "InMemoryConfigStore";
    }
}
