package dev.vnet.dataplane.counters;

/** Life cycle of an agent as published in its counters file. */
public enum AgentState {
    STARTING, RUNNING, STOPPED, FAILED;

    static AgentState of(int code) {
        return code >= 0 && code < values().length ? values()[code] : FAILED;
    }
}
