package dev.vnet.bgp.wire;

import java.util.List;

/**
 * OPEN (RFC 4271 §4.2) with its capabilities (RFC 5492).
 *
 * <pre>
 *  | version (1) = 4 | my AS (2) | hold time (2) | BGP identifier (4) | opt. param. length (1) | params |
 *  param: | type (1) = 2 (capabilities) | length (1) | capability: code (1) | length (1) | value | ... |
 * </pre>
 *
 * @param myAsField the 2-octet "My Autonomous System" field: the AS, or AS_TRANS (23456) when the AS
 *                  needs 4 octets (RFC 6793), which the {@link Capability.FourOctetAs} capability then carries
 */
public record Open(int version, int myAsField, int holdTime, int bgpIdentifier, List<Capability> capabilities)
        implements BgpMessage {
    public static final int VERSION = 4;
    public static final int MIN_BODY_LENGTH = 10;
    public static final int PARAMETER_CAPABILITIES = 2;

    public Open {
        capabilities = List.copyOf(capabilities);
    }

    /** An OPEN from a speaker in {@code as}, with the 4-octet AS capability added if it is not among {@code capabilities}. */
    public static Open of(long as, int holdTime, int bgpIdentifier, List<Capability> capabilities) {
        int field = as <= 0xFFFF ? (int) as : AsPath.AS_TRANS;
        return new Open(VERSION, field, holdTime, bgpIdentifier, capabilities);
    }

    /** The sender's AS: the 4-octet capability's if present (RFC 6793 §4.1), else the 2-octet field. */
    public long as() {
        for (Capability capability : capabilities) {
            if (capability instanceof Capability.FourOctetAs four) {
                return four.as();
            }
        }
        return myAsField;
    }

    public boolean has(Capability capability) {
        return capabilities.contains(capability);
    }

    public boolean supportsFourOctetAs() {
        return capabilities.stream().anyMatch(c -> c instanceof Capability.FourOctetAs);
    }

    public boolean supportsRouteRefresh() {
        return capabilities.stream().anyMatch(c -> c instanceof Capability.RouteRefresh);
    }

    /** The vnet extension version advertised, or 0. */
    public int vnetExtensionVersion() {
        for (Capability capability : capabilities) {
            if (capability instanceof Capability.VnetExtension vnet) {
                return vnet.version();
            }
        }
        return 0;
    }

    @Override
    public int type() {
        return TYPE_OPEN;
    }
}
