package dev.vnet.store;

/** The lease expired or was revoked (or never existed). */
public final class LeaseNotFoundException extends RuntimeException {
    public LeaseNotFoundException(long leaseId) {
        super("lease " + Long.toHexString(leaseId) + " has expired or was revoked");
    }
}
