package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;
import dev.vnet.wire.VnpHeader;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigAndSubnetTest {
    @Test
    void subnetsParseStrictly() {
        Subnet subnet = Subnet.parse("10.0.0.0/24");
        assertThat(subnet.address()).isEqualTo(Ipv4Address.parse("10.0.0.0"));
        assertThat(subnet.size()).isEqualTo(256);
        assertThat(subnet.broadcast()).isEqualTo(Ipv4Address.parse("10.0.0.255"));
        assertThat(subnet.contains(Ipv4Address.parse("10.0.0.77"))).isTrue();
        assertThat(subnet.contains(Ipv4Address.parse("10.0.1.0"))).isFalse();
        assertThat(Subnet.parse("128.0.0.0/1").contains(Ipv4Address.parse("255.1.2.3"))).isTrue();
        assertThat(Subnet.parse("128.0.0.0/1").size()).isEqualTo(1L << 31);
        for (String bad : new String[]{"10.0.0.0", "10.0.0.0/", "10.0.0.0/024", "10.0.0.0/33", "10.0.0.0/0", "10.0.0.0/32", "10.0.0.1/24", "10.0.0.0/2x", null}) {
            assertThatThrownBy(() -> Subnet.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void configChecksItsValues() {
        RegistryConfig defaults = RegistryConfig.defaults();
        assertThat(defaults.firstPort()).isEqualTo(47901);
        assertThat(defaults.lastPort()).isEqualTo(48900);
        assertThat(defaults.tokenTtlSeconds()).isEqualTo(600);
        assertThatThrownBy(() -> defaults.withTokenTtl(Duration.ZERO)).hasMessageContaining("token TTL");
        assertThatThrownBy(() -> defaults.withTokenTtl(Duration.ofMillis(1500))).hasMessageContaining("whole seconds");
        assertThatThrownBy(() -> defaults.withClockSkew(Duration.ofSeconds(-1))).hasMessageContaining("clock skew");
        assertThatThrownBy(() -> defaults.withPortRange(48000, 47000)).hasMessageContaining("port range");
        assertThatThrownBy(() -> defaults.withPortRange(0, 10)).hasMessageContaining("port range");
        assertThat(RegistryConfig.parseTokenTtl("never")).isEqualTo(RegistryConfig.TOKENS_NEVER_EXPIRE);
        assertThat(RegistryConfig.parseTokenTtl("600")).isEqualTo(Duration.ofSeconds(600));
        assertThat(RegistryConfig.parseTokenTtl("PT10M")).isEqualTo(Duration.ofSeconds(600));
        assertThatThrownBy(() -> RegistryConfig.parseTokenTtl("ten")).hasMessageContaining("'never'");
    }

    @Test
    void expiryIsNowPlusTtlOrNever() {
        RegistryConfig config = RegistryConfig.defaults().withClock(() -> Instant.ofEpochSecond(1_800_000_000L, 999_000_000));
        assertThat(config.expiryOfTokenIssuedNow()).isEqualTo(1_800_000_600L);
        assertThat(config.withTokenTtl(RegistryConfig.TOKENS_NEVER_EXPIRE).expiryOfTokenIssuedNow()).isEqualTo(VnpHeader.EXPIRY_NEVER);
        assertThat(config.withTokenTtl(RegistryConfig.TOKENS_NEVER_EXPIRE).tokenTtlSeconds()).isZero();
        assertThat(config.withTokenTtl(RegistryConfig.MAX_TOKEN_TTL).expiryOfTokenIssuedNow()).isEqualTo(VnpHeader.EXPIRY_NEVER - 1);
    }
}
