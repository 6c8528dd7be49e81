package dev.vnet.vsock.mapper;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Which destinations a VM may reach: an ordered list of allow and deny rules, each a regular
 * expression that must match the whole canonical URI ({@link SocketUri#toString()}).
 *
 * <p>The first matching rule decides; when none matches, the list's default does. A whitelist is
 * a default of deny with allow rules, a blacklist a default of allow with deny rules, and the two
 * mix: a deny for one host placed before an allow for its subnet.
 *
 * <p>Patterns are RE2/J rather than java.util.regex because RE2 matches in time linear in the input,
 * without backtracking: no pattern an operator writes (say {@code (a+)+$}) can stall the host on a
 * URI a guest chose. What it gives up, backreferences and lookaround, URI rules do not need.
 */
public final class AccessList {

    public enum Action {
        ALLOW, DENY;

        /** As a policy file writes it: {@code allow}. */
        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One rule; {@code name} is how decisions, logs and errors refer to it ({@code acl[2]} from a policy file). */
    public static final class Rule {
        private final Action action;
        private final Pattern pattern;
        private final String name;
        private final int index;

        /** @throws IllegalArgumentException naming the rule when {@code regex} is not a valid RE2 expression */
        public Rule(Action action, String regex, String name, int index) {
            this.action = Objects.requireNonNull(action, "action");
            this.name = Objects.requireNonNull(name, "name");
            this.pattern = compile(regex, name + "." + action.text());
            this.index = index;
        }

        public Action action() {
            return action;
        }

        public String regex() {
            return pattern.pattern();
        }

        public String name() {
            return name;
        }

        public int index() {
            return index;
        }

        public boolean matches(SocketUri uri) {
            return pattern.matcher(uri.toString()).matches();
        }

        @Override
        public String toString() {
            return name + " " + action.text() + " " + regex();
        }
    }

    /** The action and the rule that chose it, or a null rule when the default did. */
    public record Verdict(Action action, Rule rule) {
        public boolean byDefault() {
            return rule == null;
        }
    }

    private final List<Rule> rules;
    private final Action defaultAction;

    public AccessList(List<Rule> rules, Action defaultAction) {
        this.rules = List.copyOf(rules);
        this.defaultAction = Objects.requireNonNull(defaultAction, "defaultAction");
    }

    public Verdict evaluate(SocketUri uri) {
        for (Rule rule : rules) {
            if (rule.matches(uri)) {
                return new Verdict(rule.action(), rule);
            }
        }
        return new Verdict(defaultAction, null);
    }

    public List<Rule> rules() {
        return rules;
    }

    public Action defaultAction() {
        return defaultAction;
    }

    /** @param owner how the error names what the expression belongs to */
    static Pattern compile(String regex, String owner) {
        Objects.requireNonNull(regex, "regex");
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(owner + ": invalid regular expression '" + regex + "': " + e.getDescription());
        }
    }
}
