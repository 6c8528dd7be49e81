package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.Counters;
import org.agrona.concurrent.SystemEpochClock;

import java.nio.file.Path;

/** Runs an agent as the life of this process: until SIGTERM/SIGINT, then releases everything. */
public final class AgentProcess {
    /** Room for the agent-wide counters plus four per VM. */
    private static final int COUNTER_CAPACITY = 4096;

    private AgentProcess() {
    }

    /**
     * @param config   built by the caller (from the registry's assignments and the local attachments)
     * @param tokens   where tokens come from
     * @param onStop   released after the agent stops (the registry connection)
     */
    public static void run(java.util.function.Supplier<AgentConfig> config, TokenSource tokens, Path countersFile,
                           AutoCloseable onStop) throws Exception {
        Counters counters = Counters.createFile(countersFile, COUNTER_CAPACITY);
        Agent agent;
        try {
            agent = Agent.start(config.get(), tokens, counters, SystemEpochClock.INSTANCE);
        } catch (RuntimeException e) {
            counters.state(AgentState.FAILED);
            onStop.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            try {
                onStop.close();
            } catch (Exception ignored) {
                // the process is ending
            }
        }, "agent-shutdown"));
        agent.awaitTermination();
    }
}
