package dev.vnet.controller;

import dev.vnet.controller.channel.HostStateDiff;
import dev.vnet.controller.channel.VmAttachment;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A host's desired state carries its VMs' additional addresses from the registry. */
class RegistryDesiredStateTest {
    private static final int VIP = Ipv4Address.parse("203.0.113.10");
    private static final int INSIDE_VIP = Ipv4Address.parse("10.0.0.100");

    @Test
    void aChangeOfAVmsAdditionalAddressesChangesItsAttachmentOnly() {
        RegistryService registry = new RegistryService(new InMemoryConfigStore(), RegistryService.STORE_PREFIX, RegistryConfig.defaults());
        registry.createNetwork("blue", 0, "10.0.0.0/24");
        registry.registerHost("h1", "10.255.0.1");
        registry.createVm("blue1", "blue", "h1", null);
        RegistryDesiredState desired = new RegistryDesiredState(registry, () -> null);
        var before = desired.desired("h1");
        assertThat(before.attachmentsByVmId().get("blue1").additionalAddresses()).isEmpty();

        registry.setVmAdditionalAddresses("blue1", List.of(VIP, INSIDE_VIP));
        var after = desired.desired("h1");
        VmAttachment attachment = after.attachmentsByVmId().get("blue1");
        assertThat(attachment.additionalAddresses()).containsExactly(INSIDE_VIP, VIP);

        HostStateDiff diff = HostStateDiff.between(before, after);
        assertThat(diff.attachments().changed()).containsExactly(attachment);
        assertThat(diff.attachments().added()).isEmpty();
        assertThat(diff.attachments().removed()).isEmpty();
        assertThat(diff.routes().isEmpty()).isTrue();
        assertThat(before.attachmentsByVmId().get("blue1").differsOnlyInAdditionalAddresses(attachment)).isTrue();
    }
}
