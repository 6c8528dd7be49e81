package dev.vnet.dataplane;

import dev.vnet.dataplane.counters.AgentState;
import dev.vnet.dataplane.counters.Counters;

import java.nio.file.Path;

/** Runs an agent as the life of this process: until SIGTERM/SIGINT, then releases everything. */
public final class AgentProcess {
    /** Room for the agent-wide counters plus four per port. */
    private static final int COUNTER_CAPACITY = 4096;

    private AgentProcess() {
    }

    public static void run(Path placementFile, String hostName, Path countersFile) throws Exception {
        Placement placement = Placement.read(placementFile);
        Counters counters = Counters.createFile(countersFile, COUNTER_CAPACITY);
        Agent agent;
        try {
            agent = Agent.start(placement, hostName, counters);
        } catch (RuntimeException e) {
            counters.state(AgentState.FAILED);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "agent-shutdown"));
        agent.awaitTermination();
    }
}
