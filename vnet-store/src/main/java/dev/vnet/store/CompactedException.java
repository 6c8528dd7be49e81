package dev.vnet.store;

/** A watch asked for changes older than the store still remembers. */
public final class CompactedException extends RuntimeException {
    private final long compactRevision;

    public CompactedException(long requested, long compactRevision) {
        super("revision " + requested + " is compacted: the store remembers changes after revision "
                + compactRevision + "; read again and watch from that read's revision + 1");
        this.compactRevision = compactRevision;
    }

    /** The store keeps changes with revisions greater than this. */
    public long compactRevision() {
        return compactRevision;
    }
}
