package dev.vnet.registry;

/** Lets {@code sourceVm} send to {@code destinationVm} in another network; one direction only. */
public record AllowRule(String sourceVm, String destinationVm) {
}
