package dev.vnet.vsock.mapper;

import dev.vnet.vsock.mapper.Decision.Outcome;
import dev.vnet.vsock.mapper.Decision.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.Optional;

/**
 * The socket mapper backend: decides, for each socket command a VM offloads, whether it may go
 * where it asks and which handler carries it.
 *
 * <ol>
 *   <li>The VM's policy; a VM without one is denied ({@code no_policy}).
 *   <li>Its access list on the requested URI: the first matching rule, else the default, allows or
 *       denies.
 *   <li>Its rewrites, on an allowed URI: the first that matches replaces the URI; one whose result
 *       is not a valid URI of the same socket family denies ({@code rewrite_invalid}).
 *   <li>The handler, by the final URI's scheme; {@code tcp://HOST:80} goes to the HTTP handler when
 *       the policy proxies port 80 and enables HTTP. A handler the policy does not enable denies
 *       ({@code handler_disabled}).
 * </ol>
 *
 * <p>The rewritten URI is not checked against the access list again. The operator wrote the
 * rewrite, so its target is allowed by that act, as an operator expects: otherwise a whitelist
 * would also have to list every redirect target, and a forgotten entry would silently turn a
 * redirect into a denial. What the access list guards is what the guest asked for, and a rewrite
 * only ever applies to a request the list already allowed.
 *
 * <p>Every decision is counted ({@link MapperCounters}) and every denial logged at INFO with the
 * VM, the URI and what denied it. Safe for concurrent use.
 */
public final class SocketMapper {
    private static final Logger LOG = LoggerFactory.getLogger(SocketMapper.class);
    private static final int HTTP_PORT = 80;

    private final VmPolicies policies;
    private final MapperCounters counters = new MapperCounters();

    public SocketMapper(VmPolicies policies) {
        this.policies = Objects.requireNonNull(policies, "policies");
    }

    public Decision map(String vm, SocketUri requested) {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(requested, "requested");
        Optional<VmPolicy> found = policies.find(vm);
        if (found.isEmpty()) {
            return deny(vm, requested, Reason.NO_POLICY, "");
        }
        VmPolicy policy = found.get();
        AccessList.Verdict verdict = policy.acl().evaluate(requested);
        Reason aclReason = verdict.byDefault() ? Reason.DEFAULT : Reason.of(verdict.rule());
        if (verdict.action() == AccessList.Action.DENY) {
            return deny(vm, requested, aclReason, "");
        }
        SocketUri target = requested;
        for (RewriteRule rewrite : policy.rewrites()) {
            RewriteRule.Result result = rewrite.apply(requested);
            if (result instanceof RewriteRule.Invalid invalid) {
                return deny(vm, requested, Reason.rewriteInvalid(rewrite),
                        ": it gave '" + invalid.text() + "': " + invalid.problem());
            }
            if (result instanceof RewriteRule.Rewritten rewritten) {
                target = rewritten.uri();
                break;
            }
        }
        HandlerKind handler = handlerFor(target, policy);
        if (!policy.enables(handler)) {
            return deny(vm, requested, Reason.HANDLER_DISABLED, ": the " + handler.text() + " handler is not enabled"
                    + (target.equals(requested) ? "" : " (for " + target + ", its rewrite)"));
        }
        Decision decision = new Decision(Outcome.ALLOWED, target, handler, aclReason);
        counters.count(vm, decision, !target.equals(requested));
        return decision;
    }

    public MapperCounters counters() {
        return counters;
    }

    private static HandlerKind handlerFor(SocketUri uri, VmPolicy policy) {
        return switch (uri.scheme()) {
            case TCP -> uri.port() == HTTP_PORT && policy.httpProxyPort80() && policy.enables(HandlerKind.HTTP)
                    ? HandlerKind.HTTP : HandlerKind.TCP;
            case UDP -> HandlerKind.UDP;
            case DNS -> HandlerKind.DNS;
            case HTTP -> HandlerKind.HTTP;
        };
    }

    /** @param detail appended to the log line, empty or beginning with ": " */
    private Decision deny(String vm, SocketUri uri, Reason reason, String detail) {
        Decision decision = new Decision(Outcome.DENIED, uri, null, reason);
        counters.count(vm, decision, false);
        LOG.info("denied vm={} uri={} by {}{}", vm, uri, reason, detail);
        return decision;
    }
}
