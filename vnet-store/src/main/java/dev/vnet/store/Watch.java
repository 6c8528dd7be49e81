package dev.vnet.store;

/** A running watch; closing it stops deliveries (a batch being delivered finishes). */
public interface Watch extends AutoCloseable {
    @Override
    void close();
}
