package dev.vnet.bgp;

import dev.vnet.bgp.rib.ImportFilter;
import dev.vnet.bgp.session.ConnectRetry;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A speaker's configuration.
 *
 * @param localAs          our AS (4 octets)
 * @param routerId         our BGP identifier (an IPv4 address as an int; vnet uses the controller
 *                         node's address)
 * @param listen           where to accept connections (port 0: any free port, see
 *                         {@link BgpSpeaker#listenAddress()}), or null to only connect out. Outgoing
 *                         connections are made from its address, so that peers recognise us by it
 * @param clusterId        route reflection cluster id (RFC 4456), our router id unless set
 * @param holdTime         seconds we propose (0, or 3..65535); the session uses the smaller of the two
 * @param extensionVersion vnet extension version to advertise (0: none)
 * @param routeRefresh     advertise route refresh (RFC 2918)
 * @param connectTimeout   how long one TCP connection attempt may take
 */
public record SpeakerConfig(long localAs, int routerId, InetSocketAddress listen, int clusterId, int holdTime,
                            ConnectRetry connectRetry, int extensionVersion, boolean routeRefresh, Duration connectTimeout,
                            ImportFilter importFilter, List<PeerConfig> peers) {
    public static final int DEFAULT_HOLD_TIME = 90;

    public SpeakerConfig {
        peers = List.copyOf(peers);
        if (routerId == 0) {
            throw new IllegalArgumentException("router id 0 is not a valid BGP identifier");
        }
    }

    public static Builder builder(long localAs, int routerId) {
        return new Builder(localAs, routerId);
    }

    public static final class Builder {
        private final long localAs;
        private final int routerId;
        private InetSocketAddress listen;
        private int clusterId;
        private int holdTime = DEFAULT_HOLD_TIME;
        private ConnectRetry connectRetry = ConnectRetry.DEFAULT;
        private int extensionVersion = BgpSpeaker.EXTENSION_VERSION;
        private boolean routeRefresh = true;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private ImportFilter importFilter = ImportFilter.ALL;
        private final List<PeerConfig> peers = new ArrayList<>();

        private Builder(long localAs, int routerId) {
            this.localAs = localAs;
            this.routerId = routerId;
        }

        public Builder listen(InetSocketAddress listen) {
            this.listen = listen;
            return this;
        }

        public Builder clusterId(int clusterId) {
            this.clusterId = clusterId;
            return this;
        }

        public Builder holdTime(int seconds) {
            this.holdTime = seconds;
            return this;
        }

        public Builder connectRetry(ConnectRetry connectRetry) {
            this.connectRetry = connectRetry;
            return this;
        }

        public Builder extensionVersion(int version) {
            this.extensionVersion = version;
            return this;
        }

        public Builder routeRefresh(boolean routeRefresh) {
            this.routeRefresh = routeRefresh;
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        public Builder importFilter(ImportFilter importFilter) {
            this.importFilter = importFilter;
            return this;
        }

        public Builder peer(PeerConfig peer) {
            peers.add(peer);
            return this;
        }

        public SpeakerConfig build() {
            return new SpeakerConfig(localAs, routerId, listen, clusterId == 0 ? routerId : clusterId, holdTime, connectRetry,
                    extensionVersion, routeRefresh, connectTimeout, importFilter, peers);
        }
    }
}
