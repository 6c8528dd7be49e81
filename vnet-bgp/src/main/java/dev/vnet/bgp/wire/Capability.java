package dev.vnet.bgp.wire;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A capability advertised in OPEN (RFC 5492): code, length, value. The ones this speaker acts on have
 * their own types; any other is kept as {@link Unknown} and ignored (RFC 5492 §5: a capability a speaker
 * does not recognise is ignored, the session still comes up).
 */
public sealed interface Capability {
    int MULTIPROTOCOL = 1;
    int ROUTE_REFRESH = 2;
    int FOUR_OCTET_AS = 65;
    /** vnet's extension capability, from the range reserved for experimental use (RFC 8810: 239-254). */
    int VNET_EXTENSION = 240;

    int code();

    /** Multiprotocol extensions (RFC 4760 §8): AFI (2), reserved (1), SAFI (1). */
    record Multiprotocol(int afi, int safi) implements Capability {
        public static final int AFI_IPV4 = 1;
        public static final int SAFI_MPLS_VPN = 128;
        public static final Multiprotocol VPN_IPV4 = new Multiprotocol(AFI_IPV4, SAFI_MPLS_VPN);

        @Override
        public int code() {
            return MULTIPROTOCOL;
        }
    }

    /** Route refresh (RFC 2918), no value. */
    record RouteRefresh() implements Capability {
        @Override
        public int code() {
            return ROUTE_REFRESH;
        }
    }

    /** Support for 4-octet AS numbers (RFC 6793), carrying the speaker's AS. */
    record FourOctetAs(long as) implements Capability {
        @Override
        public int code() {
            return FOUR_OCTET_AS;
        }
    }

    /**
     * vnet's own extensions, and which protocol version of them the speaker runs. Value: the octets
     * "VNET" (so another experiment that happens to use code 240 is not mistaken for it; such a value is
     * kept as {@link Unknown}) and the version, 2 octets. When both ends advertise it, the session runs
     * the lower version; when one does not, vnet's extensions are off for the session, which still
     * carries VPN-IPv4 like any BGP session.
     */
    record VnetExtension(int version) implements Capability {
        public static final int MAGIC = 0x564E_4554;
        public static final int LENGTH = 6;

        public VnetExtension {
            if (version < 1 || version > 0xFFFF) {
                throw new IllegalArgumentException("vnet extension version is 1..65535: " + version);
            }
        }

        @Override
        public int code() {
            return VNET_EXTENSION;
        }
    }

    /** Any other capability, kept as received. */
    record Unknown(int code, byte[] value) implements Capability {
        public Unknown {
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Unknown unknown && unknown.code == code && Arrays.equals(unknown.value, value);
        }

        @Override
        public int hashCode() {
            return code * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Unknown[code=" + code + ", value=" + HexFormat.of().formatHex(value) + "]";
        }
    }
}
