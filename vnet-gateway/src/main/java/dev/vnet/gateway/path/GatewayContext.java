package dev.vnet.gateway.path;

import org.agrona.concurrent.EpochClock;

/**
 * What a gateway's two forwarders share: the current tables and network keys (each replaced whole,
 * with one volatile write, when the configuration changes), the egress translations, the ingress
 * tokens, the counters and the gateway's fixed settings.
 *
 * @param publicAddress  the gateway's public (egress translation) address
 * @param probeSource    the address the health checker's probes leave from, as the VMs see it
 * @param underlayMtu    the underlay's IP MTU; no datagram exceeds it
 */
public final class GatewayContext {
    private volatile GatewayTables tables = GatewayTables.EMPTY;
    private volatile NetworkKeys keys = NetworkKeys.NONE;
    private volatile long maxTokenLifeSeconds = 3600;
    private volatile long clockSkewSeconds = 30;
    public final int publicAddress;
    public final int probeSource;
    public final int underlayMtu;
    public final SnatTable snat = new SnatTable();
    public final IngressTokens tokens;
    public final GatewayCounters counters;
    public final GatewayEgress egress;
    public final EpochClock clock;

    public GatewayContext(int publicAddress, int probeSource, int underlayMtu, IngressTokenSource tokenSource,
                          GatewayCounters counters, GatewayEgress egress, EpochClock clock) {
        this.publicAddress = publicAddress;
        this.probeSource = probeSource;
        this.underlayMtu = underlayMtu;
        this.counters = counters;
        this.egress = egress;
        this.clock = clock;
        this.tokens = new IngressTokens(tokenSource, counters, dev.vnet.wire.VnpHeader.LENGTH, clock);
    }

    public GatewayTables tables() {
        return tables;
    }

    public void tables(GatewayTables tables) {
        this.tables = tables;
    }

    public NetworkKeys keys() {
        return keys;
    }

    public void keys(NetworkKeys keys) {
        this.keys = keys;
    }

    /** The registry's token rules: the longest life it gives a token, and the clock difference allowed. */
    public void tokenRules(long maxTokenLifeSeconds, long clockSkewSeconds) {
        this.maxTokenLifeSeconds = maxTokenLifeSeconds;
        this.clockSkewSeconds = clockSkewSeconds;
    }

    long maxTokenLifeSeconds() {
        return maxTokenLifeSeconds;
    }

    long clockSkewSeconds() {
        return clockSkewSeconds;
    }

    long nowSeconds() {
        return clock.time() / 1000;
    }
}
