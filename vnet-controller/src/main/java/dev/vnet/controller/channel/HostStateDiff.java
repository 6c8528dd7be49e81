package dev.vnet.controller.channel;

/** How a host's state changed: its VM attachments (by VM id) and its routes (by network and address). */
public record HostStateDiff(MapDiff<VmAttachment> attachments, MapDiff<Route> routes) {
    public static final HostStateDiff NONE = new HostStateDiff(MapDiff.none(), MapDiff.none());

    public static HostStateDiff between(HostState from, HostState to) {
        return new HostStateDiff(MapDiff.between(from.attachmentsByVmId(), to.attachmentsByVmId()),
                MapDiff.between(from.routes(), to.routes()));
    }

    public boolean isEmpty() {
        return attachments.isEmpty() && routes.isEmpty();
    }

    @Override
    public String toString() {
        return "HostStateDiff[attachments +" + attachments.added().size() + " -" + attachments.removed().size() + " ~"
                + attachments.changed().size() + ", routes +" + routes.added().size() + " -" + routes.removed().size() + " ~"
                + routes.changed().size() + "]";
    }
}
