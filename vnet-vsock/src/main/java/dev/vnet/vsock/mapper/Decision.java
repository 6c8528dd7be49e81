package dev.vnet.vsock.mapper;

import java.util.Locale;
import java.util.Objects;

/**
 * What the socket mapper decided for one command.
 *
 * @param uri     where an allowed command goes (the rewritten URI when a rewrite applied); for a
 *                denial, the URI the guest asked for
 * @param handler the handler that carries the command out; null when it is denied
 * @param reason  the rule, or the circumstance, that decided
 */
public record Decision(Outcome outcome, SocketUri uri, HandlerKind handler, Reason reason) {

    public enum Outcome { ALLOWED, DENIED }

    public Decision {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(reason, "reason");
        if ((outcome == Outcome.ALLOWED) != (handler != null)) {
            throw new IllegalArgumentException("an allowed decision has a handler and a denied one has none");
        }
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOWED;
    }

    /**
     * Why: an access-list rule, the list's default, no policy for the VM, a rewrite whose result was
     * not usable, or a handler the policy does not enable. {@code rule}, {@code index} and
     * {@code pattern} name the rule for {@link Kind#ACL_RULE} and {@link Kind#REWRITE_INVALID}; they
     * are empty and -1 otherwise.
     */
    public record Reason(Kind kind, String rule, int index, String pattern) {

        public enum Kind {
            ACL_RULE, DEFAULT, NO_POLICY, REWRITE_INVALID, HANDLER_DISABLED;

            /** As counters and logs write it: {@code rewrite_invalid}. */
            public String text() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        public static final Reason DEFAULT = new Reason(Kind.DEFAULT, "", -1, "");
        public static final Reason NO_POLICY = new Reason(Kind.NO_POLICY, "", -1, "");
        public static final Reason HANDLER_DISABLED = new Reason(Kind.HANDLER_DISABLED, "", -1, "");

        public static Reason of(AccessList.Rule rule) {
            return new Reason(Kind.ACL_RULE, rule.name(), rule.index(), rule.regex());
        }

        public static Reason rewriteInvalid(RewriteRule rule) {
            return new Reason(Kind.REWRITE_INVALID, rule.name(), rule.index(), rule.match());
        }

        @Override
        public String toString() {
            return switch (kind) {
                case ACL_RULE -> rule + " " + pattern;
                case REWRITE_INVALID -> kind.text() + " " + rule + " " + pattern;
                default -> kind.text();
            };
        }
    }
}
