package dev.vnet.cli;

import dev.vnet.controller.channel.VmAttachment;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Which attachment changes the applier makes where the VM runs instead of recreating its TAP and namespace. */
class AttachmentApplierTest {
    private static final int VIP = 0xCB00710A; // 203.0.113.10

    private static VmAttachment attachment(int address, int port) {
        byte[] key = new byte[VmAttachment.KEY_LENGTH];
        Arrays.fill(key, (byte) 7);
        return new VmAttachment("id-1", "web", "p", 1, address, 24, 0x02564E000000L | address & 0xFFFFFF, port, key);
    }

    @Test
    void aChangeOfAdditionalAddressesAloneIsAppliedInPlace() {
        VmAttachment vm = attachment(0x0A01000B, 47901);
        assertThat(AttachmentApplier.updatesInPlace(vm, vm.withAdditionalAddresses(List.of(VIP)))).isTrue();
        assertThat(AttachmentApplier.updatesInPlace(vm.withAdditionalAddresses(List.of(VIP)), vm)).isTrue();
    }

    @Test
    void anyOtherChangeRecreatesTheVm() {
        VmAttachment vm = attachment(0x0A01000B, 47901);
        assertThat(AttachmentApplier.updatesInPlace(vm, attachment(0x0A01000C, 47901).withAdditionalAddresses(List.of(VIP)))).isFalse();
        assertThat(AttachmentApplier.updatesInPlace(vm, attachment(0x0A01000B, 47902))).isFalse();
        assertThat(AttachmentApplier.updatesInPlace(null, vm)).isFalse();
    }
}
