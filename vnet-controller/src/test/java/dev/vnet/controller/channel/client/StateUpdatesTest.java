package dev.vnet.controller.channel.client;

import dev.vnet.controller.channel.ChannelMessages;
import dev.vnet.controller.channel.HostState;
import dev.vnet.controller.channel.Route;
import dev.vnet.controller.channel.RouteKey;
import dev.vnet.controller.channel.VmAttachment;
import dev.vnet.controller.channel.proto.StateUpdate;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StateUpdatesTest {
    private static final VmAttachment A1 = attachment("a1", 0x0A01000B, (byte) 1);
    private static final Route R1 = route("a1", 0x0A01000B, 47901);
    private static final Route R2 = route("a2", 0x0A01000C, 47901);
    private static final HostState HELD = new HostState("h1", Map.of("a1", A1), Map.of(R1.key(), R1, R2.key(), R2));

    private static VmAttachment attachment(String id, int address, byte keyByte) {
        byte[] key = new byte[VmAttachment.KEY_LENGTH];
        Arrays.fill(key, keyByte);
        return new VmAttachment(id, id, "p", 1, address, 24, 0x02564E000000L | address & 0xFFFFFF, 47901, key);
    }

    private static Route route(String vmId, int address, int port) {
        return new Route(1, address, 0x02564E000000L | address & 0xFFFFFF, "h", 0x0AFF0001, port, vmId, Route.VNP);
    }

    @Test
    void aFullUpdateEqualToWhatIsHeldIsAnEmptyChangeThatKeepsTheHeldMaps() {
        HostStateChange change = StateUpdates.apply(HELD, ChannelMessages.fullUpdate(7, HELD));
        assertThat(change.isEmpty()).isTrue();
        assertThat(change.full()).isTrue();
        assertThat(change.version()).isEqualTo(7);
        assertThat(change.current().routes()).isSameAs(HELD.routes());
        assertThat(change.current().attachmentsByVmId()).isSameAs(HELD.attachmentsByVmId());
    }

    @Test
    void aFullUpdateIsDiffedAgainstWhatIsHeld() {
        Route moved = route("a2", 0x0A01000C, 47999);
        VmAttachment rekeyed = attachment("a1", 0x0A01000B, (byte) 2);
        HostState next = new HostState("h1", Map.of("a1", rekeyed), Map.of(moved.key(), moved));
        HostStateChange change = StateUpdates.apply(HELD, ChannelMessages.fullUpdate(8, next));
        assertThat(change.current()).isEqualTo(next);
        assertThat(change.diff().attachments().changed()).containsExactly(rekeyed);
        assertThat(change.diff().routes().changed()).containsExactly(moved);
        assertThat(change.diff().routes().removed()).containsExactly(R1);
        assertThat(change.diff().routes().added()).isEmpty();
    }

    @Test
    void aDeltaIsAppliedToWhatIsHeldAndItsDiffLeavesOutUpsertsThatChangeNothing() {
        Route r3 = route("a3", 0x0A01000D, 47902);
        StateUpdate delta = StateUpdate.newBuilder().setVersion(9)
                .addUpsertedRoutes(ChannelMessages.toMessage(R2))
                .addUpsertedRoutes(ChannelMessages.toMessage(r3))
                .addRemovedRoutes(ChannelMessages.toMessage(R1.key()))
                .addRemovedRoutes(ChannelMessages.toMessage(new RouteKey(1, 0x0A0100FF)))
                .build();
        HostStateChange change = StateUpdates.apply(HELD, delta);
        assertThat(change.full()).isFalse();
        assertThat(change.current().routes()).containsOnlyKeys(R2.key(), r3.key());
        assertThat(change.current().attachmentsByVmId()).isSameAs(HELD.attachmentsByVmId());
        assertThat(change.diff().routes().added()).containsExactly(r3);
        assertThat(change.diff().routes().removed()).containsExactly(R1);
        assertThat(change.diff().routes().changed()).isEmpty();
        assertThat(change.diff().attachments().isEmpty()).isTrue();
    }

    @Test
    void attachmentsSurviveTheWireWithTheirKeysAndRecordsCompareKeysByContent() {
        VmAttachment back = ChannelMessages.fromMessage(ChannelMessages.toMessage(A1));
        assertThat(back).isEqualTo(A1).hasSameHashCodeAs(A1);
        assertThat(back.key()).isEqualTo(A1.key());
        assertThat(back.toString()).doesNotContain(Arrays.toString(A1.key()));
        assertThat(attachment("a1", 0x0A01000B, (byte) 9)).isNotEqualTo(A1);
        assertThat(ChannelMessages.fromMessage(ChannelMessages.toMessage(new RouteKey(0xFFFF_FFFFL, -1)))).isEqualTo(new RouteKey(0xFFFF_FFFFL, -1));
    }

    // ---- additional addresses ----

    private static final int VIP = 0xCB00710A;  // 203.0.113.10
    private static final int VIP2 = 0x0A010064; // 10.1.0.100

    @Test
    void additionalAddressesSurviveTheWireInAscendingUnsignedOrderWithoutDuplicates() {
        VmAttachment withVips = A1.withAdditionalAddresses(List.of(VIP, VIP2, VIP));
        assertThat(withVips.additionalAddresses()).containsExactly(VIP2, VIP);
        assertThat(withVips.additionalAddressArray()).containsExactly(VIP2, VIP);
        assertThat(withVips).isEqualTo(A1.withAdditionalAddresses(List.of(VIP2, VIP))).isNotEqualTo(A1);
        assertThat(withVips.hashCode()).isEqualTo(A1.withAdditionalAddresses(List.of(VIP2, VIP)).hashCode());
        assertThat(withVips.toString()).contains("+10.1.0.100,203.0.113.10");

        assertThat(ChannelMessages.toMessage(withVips).getAdditionalAddressesList()).containsExactly(VIP2, VIP);
        assertThat(ChannelMessages.fromMessage(ChannelMessages.toMessage(withVips))).isEqualTo(withVips);
        assertThat(ChannelMessages.fromMessage(ChannelMessages.toMessage(A1)).additionalAddresses()).isEmpty();
    }

    @Test
    void onlyAdditionalAddressesChangingIsAChangedAttachmentNotARemovalAndAnAddition() {
        VmAttachment withVip = A1.withAdditionalAddresses(List.of(VIP));
        assertThat(A1.differsOnlyInAdditionalAddresses(withVip)).isTrue();
        assertThat(withVip.differsOnlyInAdditionalAddresses(A1)).isTrue();
        assertThat(A1.differsOnlyInAdditionalAddresses(attachment("a1", 0x0A01000B, (byte) 2))).as("another key").isFalse();

        // As a delta...
        StateUpdate delta = StateUpdate.newBuilder().setVersion(9).addUpsertedAttachments(ChannelMessages.toMessage(withVip)).build();
        HostStateChange change = StateUpdates.apply(HELD, delta);
        assertThat(change.diff().attachments().changed()).containsExactly(withVip);
        assertThat(change.diff().attachments().added()).isEmpty();
        assertThat(change.diff().attachments().removed()).isEmpty();
        assertThat(change.diff().routes().isEmpty()).isTrue();
        assertThat(change.current().attachmentsByVmId().get("a1").additionalAddresses()).containsExactly(VIP);

        // ...and in a full update after a reconnect.
        HostState next = new HostState("h1", Map.of("a1", withVip), HELD.routes());
        HostStateChange full = StateUpdates.apply(HELD, ChannelMessages.fullUpdate(10, next));
        assertThat(full.diff().attachments().changed()).containsExactly(withVip);
        assertThat(full.diff().attachments().removed()).isEmpty();
    }
}
