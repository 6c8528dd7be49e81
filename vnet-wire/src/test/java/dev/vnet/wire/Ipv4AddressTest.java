package dev.vnet.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class Ipv4AddressTest {
    @Test
    void parsesAndFormatsDottedQuads() {
        assertThat(Ipv4Address.parse("10.0.0.1")).isEqualTo(0x0a00_0001);
        assertThat(Ipv4Address.parse("255.255.255.255")).isEqualTo(-1);
        assertThat(Ipv4Address.parse("0.0.0.0")).isZero();
        assertThat(Ipv4Address.parse("192.168.100.200")).isEqualTo(0xc0a8_64c8);
        assertThat(Ipv4Address.toString(0xc0a8_64c8)).isEqualTo("192.168.100.200");
        assertThat(Ipv4Address.toString(-1)).isEqualTo("255.255.255.255");
        assertThat(Ipv4Address.toString(0)).isEqualTo("0.0.0.0");
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", "10.0.0", "10.0.0.1.", "10.0.0.1.2", ".10.0.0.1", "10..0.1", "256.0.0.1", "10.0.0.256",
        "010.0.0.1", "10.0.0.01", "-1.0.0.0", "+1.0.0.0", " 10.0.0.1", "10.0.0.1 ", "10.0.0.a", "0x0a.0.0.1",
        "1000.0.0.1", "10.0.0.1/24", "10,0,0,1", "\u0661.0.0.1", "10.1"})
    void rejectsAnythingButAStrictDottedQuad(String text) {
        assertThatThrownBy(() -> Ipv4Address.parse(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("invalid IPv4 address");
    }

    @ParameterizedTest
    @EnumSource(Buffers.Kind.class)
    void readsAndWritesNetworkOrder(Buffers.Kind kind) {
        ByteBuffer buffer = kind.holding(Buffers.hex("ff c0a80001 ff"), 0);
        assertThat(Ipv4Address.read(buffer, 1)).isEqualTo(Ipv4Address.parse("192.168.0.1"));

        Ipv4Address.write(buffer, 1, Ipv4Address.parse("10.1.2.3"));
        assertThat(Buffers.bytes(buffer, 0, 6)).isEqualTo(Buffers.hex("ff 0a010203 ff"));
    }
}
