package dev.vnet.controller.channel;

import com.google.protobuf.ByteString;
import dev.vnet.controller.channel.proto.StateUpdate;

import java.util.Collection;

/**
 * Conversions between the channel's records and its protobuf messages (agent_channel.proto), shared by
 * the controller's end and the agent's. Network ids travel as uint32 and are read back unsigned.
 */
public final class ChannelMessages {
    private ChannelMessages() {
    }

    public static dev.vnet.controller.channel.proto.VmAttachment toMessage(VmAttachment attachment) {
        return dev.vnet.controller.channel.proto.VmAttachment.newBuilder()
                .setVmId(attachment.vmId())
                .setVmName(attachment.vmName())
                .setProject(attachment.project())
                .setNetworkId((int) attachment.networkId())
                .setAddress(attachment.address())
                .setPrefixLength(attachment.prefixLength())
                .setMac(attachment.mac())
                .setHostPort(attachment.hostPort())
                .setKey(ByteString.copyFrom(attachment.key()))
                .addAllAdditionalAddresses(attachment.additionalAddresses())
                .build();
    }

    public static VmAttachment fromMessage(dev.vnet.controller.channel.proto.VmAttachment message) {
        return new VmAttachment(message.getVmId(), message.getVmName(), message.getProject(), Integer.toUnsignedLong(message.getNetworkId()),
                message.getAddress(), message.getPrefixLength(), message.getMac(), message.getHostPort(), message.getKey().toByteArray(),
                message.getAdditionalAddressesList());
    }

    public static dev.vnet.controller.channel.proto.Route toMessage(Route route) {
        return dev.vnet.controller.channel.proto.Route.newBuilder()
                .setNetworkId((int) route.networkId())
                .setAddress(route.address())
                .setMac(route.mac())
                .setHostName(route.hostName())
                .setHostAddress(route.hostAddress())
                .setHostPort(route.hostPort())
                .setVmId(route.vmId())
                .setEncapsulation(route.encapsulation())
                .build();
    }

    public static Route fromMessage(dev.vnet.controller.channel.proto.Route message) {
        return new Route(Integer.toUnsignedLong(message.getNetworkId()), message.getAddress(), message.getMac(), message.getHostName(),
                message.getHostAddress(), message.getHostPort(), message.getVmId(), message.getEncapsulation());
    }

    public static dev.vnet.controller.channel.proto.RouteKey toMessage(RouteKey key) {
        return dev.vnet.controller.channel.proto.RouteKey.newBuilder().setNetworkId((int) key.networkId()).setAddress(key.address()).build();
    }

    public static RouteKey fromMessage(dev.vnet.controller.channel.proto.RouteKey message) {
        return new RouteKey(Integer.toUnsignedLong(message.getNetworkId()), message.getAddress());
    }

    /** The whole state of a host, as sent when an agent connects. */
    public static StateUpdate fullUpdate(long version, HostState state) {
        StateUpdate.Builder update = StateUpdate.newBuilder().setVersion(version).setFull(true);
        state.attachmentsByVmId().values().forEach(attachment -> update.addUpsertedAttachments(toMessage(attachment)));
        state.routes().values().forEach(route -> update.addUpsertedRoutes(toMessage(route)));
        return update.build();
    }

    /** Adds a diff's attachment changes to a delta: added and changed are upserts, removed go by VM id. */
    public static void addAttachmentChanges(StateUpdate.Builder update, MapDiff<VmAttachment> diff) {
        addUpserts(update, diff.added());
        addUpserts(update, diff.changed());
        diff.removed().forEach(attachment -> update.addRemovedAttachmentVmIds(attachment.vmId()));
    }

    private static void addUpserts(StateUpdate.Builder update, Collection<VmAttachment> attachments) {
        attachments.forEach(attachment -> update.addUpsertedAttachments(toMessage(attachment)));
    }
}
