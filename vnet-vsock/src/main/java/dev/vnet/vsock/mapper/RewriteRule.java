package dev.vnet.vsock.mapper;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Redirects a destination: when {@code match} (RE2/J, like {@link AccessList}) matches the whole
 * canonical URI, the URI becomes {@code to} with its group references filled in, for example
 * {@code tcp://foo\.bar:80} to {@code tcp://foo.bar.secure:1234}, or {@code tcp://(.*)\.internal:(\d+)}
 * to {@code tcp://$1.internal.example:$2}.
 *
 * <p>In {@code to}, {@code $N} is group N ({@code $0} the whole URI; of several digits the longest
 * run naming a group of the pattern, as java.util.regex reads it; a group that did not take part
 * is empty) and a backslash takes the next character literally ({@code \$} for a dollar sign). The
 * template is compiled into literal pieces and group numbers when the rule is made, so that a
 * reference to a group the pattern lacks is refused when the policy loads, not when a guest first
 * hits it; likewise a {@code to} without references must already be a valid URI.
 *
 * <p>A result that is not a valid URI, or that changes the guest socket's {@link SocketUri.Family},
 * is {@link Invalid}: a value, never an exception, so the caller denies the command and carries on.
 */
public final class RewriteRule {

    public sealed interface Result permits NoMatch, Rewritten, Invalid {
    }

    public record NoMatch() implements Result {
    }

    public record Rewritten(SocketUri uri) implements Result {
    }

    /** @param text what the rule produced, @param problem why it cannot be used */
    public record Invalid(String text, String problem) implements Result {
    }

    private static final NoMatch NO_MATCH = new NoMatch();

    /** A literal, or a group reference when {@code group} is not negative. */
    private record Piece(String literal, int group) {
    }

    private final Pattern pattern;
    private final String to;
    private final List<Piece> pieces;
    private final String name;
    private final int index;

    /** @throws IllegalArgumentException naming the rule when {@code match} or {@code to} is invalid */
    public RewriteRule(String match, String to, String name, int index) {
        this.name = Objects.requireNonNull(name, "name");
        this.pattern = AccessList.compile(match, name + ".match");
        this.to = Objects.requireNonNull(to, "to");
        this.pieces = compileTemplate(to, pattern.groupCount(), name);
        this.index = index;
        if (pieces.stream().allMatch(piece -> piece.group() < 0)) {
            try {
                SocketUri.parse(expand(null));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ".to: " + e.getMessage());
            }
        }
    }

    public Result apply(SocketUri uri) {
        Matcher matcher = pattern.matcher(uri.toString());
        if (!matcher.matches()) {
            return NO_MATCH;
        }
        String text = expand(matcher);
        SocketUri target;
        try {
            target = SocketUri.parse(text);
        } catch (IllegalArgumentException e) {
            return new Invalid(text, e.getMessage());
        }
        if (target.scheme().family() != uri.scheme().family()) {
            return new Invalid(text, "a " + uri.scheme().text() + " destination cannot become a " + target.scheme().text()
                    + " one: the guest's socket stays the kind it opened");
        }
        return new Rewritten(target);
    }

    public String match() {
        return pattern.pattern();
    }

    public String to() {
        return to;
    }

    public String name() {
        return name;
    }

    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return name + " " + match() + " -> " + to;
    }

    private String expand(Matcher matcher) {
        StringBuilder text = new StringBuilder();
        for (Piece piece : pieces) {
            if (piece.group() < 0) {
                text.append(piece.literal());
            } else {
                String group = matcher.group(piece.group());
                text.append(group == null ? "" : group);
            }
        }
        return text.toString();
    }

    private static List<Piece> compileTemplate(String to, int groupCount, String name) {
        List<Piece> pieces = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i < to.length(); i++) {
            char c = to.charAt(i);
            if (c == '\\') {
                if (++i == to.length()) {
                    throw new IllegalArgumentException(name + ".to: ends in a lone '\\'");
                }
                literal.append(to.charAt(i));
            } else if (c == '$') {
                if (i + 1 == to.length() || !isDigit(to.charAt(i + 1))) {
                    throw new IllegalArgumentException(name + ".to: '$' at " + i
                            + " is not followed by a group number; write \\$ for a dollar sign");
                }
                int group = to.charAt(++i) - '0';
                while (i + 1 < to.length() && isDigit(to.charAt(i + 1)) && group * 10 + (to.charAt(i + 1) - '0') <= groupCount) {
                    group = group * 10 + (to.charAt(++i) - '0');
                }
                if (group > groupCount) {
                    throw new IllegalArgumentException(name + ".to: refers to $" + group + ", but match has "
                            + groupCount + (groupCount == 1 ? " group" : " groups"));
                }
                if (!literal.isEmpty()) {
                    pieces.add(new Piece(literal.toString(), -1));
                    literal.setLength(0);
                }
                pieces.add(new Piece(null, group));
            } else {
                literal.append(c);
            }
        }
        if (!literal.isEmpty()) {
            pieces.add(new Piece(literal.toString(), -1));
        }
        return List.copyOf(pieces);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
