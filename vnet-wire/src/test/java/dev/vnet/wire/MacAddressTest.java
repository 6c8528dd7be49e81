package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class MacAddressTest {
    @Test
    void parsesAndFormatsCanonicalForm() {
        long mac = MacAddress.parse("02:56:4e:00:00:01");
        assertThat(mac).isEqualTo(0x0256_4e00_0001L);
        assertThat(MacAddress.toString(mac)).isEqualTo("02:56:4e:00:00:01");
    }

    @Test
    void parsesUppercaseAndFormatsLowercase() {
        assertThat(MacAddress.toString(MacAddress.parse("AA:BB:CC:DD:EE:FF"))).isEqualTo("aa:bb:cc:dd:ee:ff");
        assertThat(MacAddress.parse("ff:ff:ff:ff:ff:ff")).isEqualTo(MacAddress.BROADCAST);
        assertThat(MacAddress.parse("00:00:00:00:00:00")).isZero();
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", "02:56:4e:00:00", "02:56:4e:00:00:01:02", "02-56-4e-00-00-01", "2:56:4e:00:00:01:",
        "02:56:4e:00:00:0g", "02:56:4e:00:00:1", " 02:56:4e:00:00:01", "02:56:4e:00:00:01 ", "02:56:4e:00:00::1",
        "0256.4e00.0001", "02:56:4e:00:00:\uFF11\uFF11", "+2:56:4e:00:00:01"})
    void rejectsAnythingElseWithAClearMessage(String text) {
        assertThatThrownBy(() -> MacAddress.parse(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("invalid MAC address")
            .hasMessageContaining("02:56:4e:00:00:01");
    }

    @Test
    void multicastIsTheIndividualGroupBit() {
        assertThat(MacAddress.isMulticast(MacAddress.BROADCAST)).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("01:00:5e:00:00:fb"))).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("33:33:00:00:00:01"))).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("02:56:4e:00:00:01"))).isFalse();
        assertThat(MacAddress.isMulticast(MacAddress.parse("00:01:00:00:00:00"))).isFalse();
        assertThat(MacAddress.isBroadcast(MacAddress.BROADCAST)).isTrue();
        assertThat(MacAddress.isBroadcast(MacAddress.parse("01:00:5e:00:00:fb"))).isFalse();
        assertThat(MacAddress.isLocallyAdministered(MacAddress.parse("02:56:4e:00:00:01"))).isTrue();
        assertThat(MacAddress.isLocallyAdministered(MacAddress.parse("00:50:56:00:00:01"))).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Buffers.Kind.class)
    void readsAndWritesNetworkOrderAtAnyIndex(Buffers.Kind kind) {
        ByteBuffer buffer = kind.holding(Buffers.hex("00 02564e0000ff 00"), 0);
        assertThat(MacAddress.read(buffer, 1)).isEqualTo(0x0256_4e00_00ffL);

        MacAddress.write(buffer, 1, 0xa1b2_c3d4_e5f6L);
        assertThat(Buffers.bytes(buffer, 0, 8)).isEqualTo(Buffers.hex("00 a1b2c3d4e5f6 00"));
        assertThat(buffer.position()).isZero();
    }

    @Test
    void writeIgnoresBitsAbove47() {
        ByteBuffer buffer = ByteBuffer.allocate(6);
        MacAddress.write(buffer, 0, 0xFFFF_0256_4e00_0001L);
        assertThat(MacAddress.read(buffer, 0)).isEqualTo(0x0256_4e00_0001L);
    }
}
