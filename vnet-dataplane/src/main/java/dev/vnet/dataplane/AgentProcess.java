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
     * @param config   built by the caller (the host's underlay and token rules; VMs may come later)
     * @param tokens   where tokens come from
     * @param onStop   released after the agent stops (the registry connection)
     */
    public static void run(java.util.function.Supplier<AgentConfig> config, TokenSource tokens, Path countersFile,
                           AutoCloseable onStop) throws Exception {
        run(config, tokens, countersFile, agent -> onStop);
    }

    /**
     * @param attach given the running agent, connects what feeds it VMs (the controller's channel);
     *               what it returns is closed before the agent when the process stops
     */
    public static void run(java.util.function.Supplier<AgentConfig> config, TokenSource tokens, Path countersFile,
                           java.util.function.Function<Agent, AutoCloseable> attach) throws Exception {
        Counters counters = Counters.createFile(countersFile, COUNTER_CAPACITY);
        Agent agent;
        AutoCloseable onStop;
        try {
            agent = Agent.start(config.get(), tokens, counters, SystemEpochClock.INSTANCE);
        } catch (RuntimeException e) {
            counters.state(AgentState.FAILED);
            throw e;
        }
        try {
            onStop = attach.apply(agent);
        } catch (RuntimeException e) {
            agent.close();
            counters.state(AgentState.FAILED);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                onStop.close();
            } catch (Exception ignored) {
                // the process is ending
            }
            agent.close();
        }, "agent-shutdown"));
        agent.awaitTermination();
    }
}
