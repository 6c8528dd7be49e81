package dev.vnet.controller.channel;

/**
 * What each host should hold, from the controller's configuration. The channel asks for one host at a
 * time, with its publishing lock held, whenever that host may have changed (a publish naming it, a
 * connecting agent, a stream ready again after back-pressure).
 */
@FunctionalInterface
public interface DesiredStateSource {
    /** The host's state now; {@link HostState#empty} for a host that has nothing (or is unknown). Must not block for long. */
    HostState desired(String host);
}
