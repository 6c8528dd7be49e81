package dev.vnet.vsock.guest;

import com.google.re2j.Pattern;

import java.util.ArrayList;
import java.util.List;

/**
 * The coprocessor's first right of refusal (seed 000): which socket commands it offloads to the host
 * and which it leaves to the guest's own network stack, decided by protocol and destination. Rules
 * are {@code offload:REGEX} or {@code local:REGEX} over the destination URI ({@code tcp://host:port},
 * {@code udp://host:port}, {@code dns://name}), RE2J, whole-URI match, first match wins, offload
 * when none matches.
 */
public final class OffloadRules {
    private record Rule(boolean offload, Pattern pattern, String text) {
    }

    private final List<Rule> rules;

    private OffloadRules(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static OffloadRules offloadEverything() {
        return new OffloadRules(List.of());
    }

    /** Parses {@code offload:REGEX} / {@code local:REGEX} rules in order; a bad rule is an error naming it. */
    public static OffloadRules parse(List<String> texts) {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            int colon = text.indexOf(':');
            String kind = colon < 0 ? "" : text.substring(0, colon);
            if (!kind.equals("offload") && !kind.equals("local")) {
                throw new IllegalArgumentException("rule " + i + " '" + text + "': must start with offload: or local:");
            }
            try {
                rules.add(new Rule(kind.equals("offload"), Pattern.compile(text.substring(colon + 1)), text));
            } catch (com.google.re2j.PatternSyntaxException e) {
                throw new IllegalArgumentException("rule " + i + " '" + text + "': " + e.getMessage(), e);
            }
        }
        return new OffloadRules(rules);
    }

    /** Whether a command to {@code uri} goes to the host device. */
    public boolean offloads(String uri) {
        for (Rule rule : rules) {
            if (rule.pattern().matches(uri)) {
                return rule.offload();
            }
        }
        return true;
    }
}
