package dev.vnet.registry;

import dev.vnet.wire.VnpHeader;

import java.time.Duration;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;

/**
 * How long tokens live, how much clock skew receivers allow, the UDP port range VM ports are taken
 * from on every host, and the clock tokens are dated by (injectable so tests control time).
 *
 * @param tokenTtl  whole seconds, at least 1; {@link #TOKENS_NEVER_EXPIRE} for expiry 0xFFFFFFFF
 * @param clockSkew whole seconds, at least 0; sent to agents, which allow it when checking expiry
 */
public record RegistryConfig(Duration tokenTtl, Duration clockSkew, int firstPort, int lastPort, InstantSource clock) {
    public static final Duration DEFAULT_TOKEN_TTL = Duration.ofSeconds(600);
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(5);
    /** Above the foundation's underlay port 47900, so both data planes can run on one host. */
    public static final int DEFAULT_FIRST_PORT = 47901;
    public static final int DEFAULT_LAST_PORT = 48900;
    /** The TTL meaning "never": tokens carry {@link VnpHeader#EXPIRY_NEVER}. */
    public static final Duration TOKENS_NEVER_EXPIRE = ChronoUnit.FOREVER.getDuration();
    /** The longest finite TTL: it must fit the unsigned 32-bit field agents receive it in. */
    public static final Duration MAX_TOKEN_TTL = Duration.ofSeconds(VnpHeader.EXPIRY_NEVER - 1);

    public RegistryConfig {
        if (tokenTtl == null || !tokenTtl.equals(TOKENS_NEVER_EXPIRE)
                && (tokenTtl.getNano() != 0 || tokenTtl.getSeconds() < 1 || tokenTtl.compareTo(MAX_TOKEN_TTL) > 0)) {
            throw new IllegalArgumentException("token TTL must be whole seconds from 1 to " + MAX_TOKEN_TTL.getSeconds()
                    + ", or never; got " + tokenTtl);
        }
        if (clockSkew == null || clockSkew.isNegative() || clockSkew.getNano() != 0 || clockSkew.getSeconds() > MAX_TOKEN_TTL.getSeconds()) {
            throw new IllegalArgumentException("clock skew must be whole seconds, 0 or more; got " + clockSkew);
        }
        if (firstPort < 1 || lastPort > 65535 || firstPort > lastPort) {
            throw new IllegalArgumentException("VM port range must satisfy 1 <= first <= last <= 65535; got " + firstPort + "-" + lastPort);
        }
        if (clock == null) {
            throw new IllegalArgumentException("clock is null");
        }
    }

    public static RegistryConfig defaults() {
        return new RegistryConfig(DEFAULT_TOKEN_TTL, DEFAULT_CLOCK_SKEW, DEFAULT_FIRST_PORT, DEFAULT_LAST_PORT, InstantSource.system());
    }

    public RegistryConfig withTokenTtl(Duration ttl) {
        return new RegistryConfig(ttl, clockSkew, firstPort, lastPort, clock);
    }

    public RegistryConfig withClockSkew(Duration skew) {
        return new RegistryConfig(tokenTtl, skew, firstPort, lastPort, clock);
    }

    public RegistryConfig withPortRange(int first, int last) {
        return new RegistryConfig(tokenTtl, clockSkew, first, last, clock);
    }

    public RegistryConfig withClock(InstantSource source) {
        return new RegistryConfig(tokenTtl, clockSkew, firstPort, lastPort, source);
    }

    /**
     * Parses a TTL as a command line gives it: {@code never}, whole seconds ({@code 600}) or an ISO-8601
     * duration ({@code PT10M}).
     */
    public static Duration parseTokenTtl(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("token TTL is empty: give seconds (600), an ISO duration (PT10M) or 'never'");
        }
        if (text.equals("never")) {
            return TOKENS_NEVER_EXPIRE;
        }
        try {
            return text.chars().allMatch(Character::isDigit) ? Duration.ofSeconds(Long.parseLong(text)) : Duration.parse(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid token TTL '" + text + "': give seconds (600), an ISO duration (PT10M) or 'never'");
        }
    }

    public boolean tokensNeverExpire() {
        return tokenTtl.equals(TOKENS_NEVER_EXPIRE);
    }

    /** The TTL as agents receive it: seconds, 0 for never. */
    public long tokenTtlSeconds() {
        return tokensNeverExpire() ? 0 : tokenTtl.getSeconds();
    }

    /**
     * The expiry of a token issued now: Unix seconds plus the TTL, or {@link VnpHeader#EXPIRY_NEVER}.
     * A finite expiry that would reach the "never" value (after 2106) stops one second short of it.
     */
    public long expiryOfTokenIssuedNow() {
        if (tokensNeverExpire()) {
            return VnpHeader.EXPIRY_NEVER;
        }
        return Math.min(clock.millis() / 1000 + tokenTtl.getSeconds(), VnpHeader.EXPIRY_NEVER - 1);
    }
}
