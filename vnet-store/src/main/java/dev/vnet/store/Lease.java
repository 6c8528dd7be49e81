package dev.vnet.store;

import java.time.Duration;

/** A granted lease: keys put with its id live as long as it is kept alive. */
public record Lease(long id, Duration ttl) {
    public Lease {
        if (id == 0) {
            throw new IllegalArgumentException("lease id 0 means no lease");
        }
    }
}
