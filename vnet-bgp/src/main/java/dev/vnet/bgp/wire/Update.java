package dev.vnet.bgp.wire;

/**
 * UPDATE (RFC 4271 §4.3) as this speaker uses it: VPN-IPv4 routes in MP_REACH_NLRI and withdrawals in
 * MP_UNREACH_NLRI (RFC 4760), with the path attributes every reachable route in it shares.
 *
 * <pre>
 *  | withdrawn routes length (2) | withdrawn routes (IPv4) | total path attribute length (2) |
 *  | path attributes: flags (1) | type (1) | length (1, or 2 with Extended Length) | value ... |
 *  | NLRI (IPv4) |
 * </pre>
 *
 * A decoded UPDATE may carry a {@link Problem}: RFC 7606 error handling that does not end the session.
 * {@link Problem.Action#TREAT_AS_WITHDRAW} means every route in {@link #reach()} is to be handled as if it
 * had been withdrawn; {@link Problem.Action#ATTRIBUTE_DISCARD} means a malformed attribute was dropped and
 * the rest is fine. IPv4 unicast prefixes in the classic fields are counted, syntax-checked and otherwise
 * ignored (this speaker negotiates VPN-IPv4 only); so are MP_REACH/MP_UNREACH of other families.
 */
public final class Update implements BgpMessage {
    private static final VpnNlriList NONE = new VpnNlriList(1);

    private final PathAttributes attributes;
    private final VpnNlriList reach;
    private final VpnNlriList withdrawn;
    private final boolean vpnUnreachPresent;
    private final int ipv4PrefixCount;
    private final int otherFamily;
    private final Problem problem;

    /** RFC 7606 handling that keeps the session. */
    public record Problem(Action action, int code, int subcode, String reason) {
        public enum Action { ATTRIBUTE_DISCARD, TREAT_AS_WITHDRAW }

        @Override
        public String toString() {
            return action + " (" + BgpError.describe(code, subcode) + ": " + reason + ")";
        }
    }

    Update(PathAttributes attributes, VpnNlriList reach, VpnNlriList withdrawn, boolean vpnUnreachPresent,
           int ipv4PrefixCount, int otherFamily, Problem problem) {
        this.attributes = attributes;
        this.reach = reach == null ? NONE : reach;
        this.withdrawn = withdrawn == null ? NONE : withdrawn;
        this.vpnUnreachPresent = vpnUnreachPresent;
        this.ipv4PrefixCount = ipv4PrefixCount;
        this.otherFamily = otherFamily;
        this.problem = problem;
    }

    /** Routes with these attributes ({@link PathAttributes#nextHop()} is the MP_REACH next hop). */
    public static Update reach(PathAttributes attributes, VpnNlriList reach) {
        return new Update(attributes, reach, null, false, 0, -1, null);
    }

    /** Withdrawals. */
    public static Update withdraw(VpnNlriList withdrawn) {
        return new Update(null, null, withdrawn, true, 0, -1, null);
    }

    /** Routes and withdrawals in one message. */
    public static Update of(PathAttributes attributes, VpnNlriList reach, VpnNlriList withdrawn) {
        return new Update(attributes, reach, withdrawn, withdrawn != null && !withdrawn.isEmpty(), 0, -1, null);
    }

    /** The End-of-RIB marker for VPN-IPv4 (RFC 4724 §2): an UPDATE with only an empty MP_UNREACH_NLRI. */
    public static Update endOfRib() {
        return new Update(null, null, null, true, 0, -1, null);
    }

    @Override
    public int type() {
        return TYPE_UPDATE;
    }

    /** The attributes shared by {@link #reach()}, or null when the UPDATE carried none. */
    public PathAttributes attributes() {
        return attributes;
    }

    public VpnNlriList reach() {
        return reach;
    }

    public VpnNlriList withdrawn() {
        return withdrawn;
    }

    /** True when the UPDATE is the VPN-IPv4 End-of-RIB marker. */
    public boolean isEndOfRib() {
        return vpnUnreachPresent && withdrawn.isEmpty() && reach.isEmpty() && attributes == null && ipv4PrefixCount == 0;
    }

    /** IPv4 unicast prefixes in the classic withdrawn and NLRI fields (ignored). */
    public int ipv4PrefixCount() {
        return ipv4PrefixCount;
    }

    /** The {@code afi << 8 | safi} of an MP attribute of another family (ignored), or -1. */
    public int otherFamily() {
        return otherFamily;
    }

    /** RFC 7606 handling to apply, or null for a clean UPDATE. */
    public Problem problem() {
        return problem;
    }

    public boolean treatAsWithdraw() {
        return problem != null && problem.action() == Problem.Action.TREAT_AS_WITHDRAW;
    }

    @Override
    public String toString() {
        return "Update[reach=" + reach + ", withdrawn=" + withdrawn + ", attributes=" + attributes
                + (problem == null ? "" : ", problem=" + problem) + "]";
    }
}
