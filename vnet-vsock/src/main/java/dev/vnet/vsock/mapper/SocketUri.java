package dev.vnet.vsock.mapper;

import dev.vnet.wire.Ipv4Address;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Objects;

/**
 * The destination of an offloaded socket command, as the guest's virtual socket coprocessor names it:
 *
 * <pre>
 *   tcp://HOST:PORT            a stream connection
 *   udp://HOST:PORT            datagrams
 *   dns://NAME                 a name lookup the host answers
 *   http://HOST[:PORT][/PATH]  an HTTP request the host proxies; PATH may end in ?QUERY
 * </pre>
 *
 * HOST is an IPv4 dotted quad, a bracketed IPv6 literal or a DNS name (letters, digits and '-',
 * labels of 1-63 characters, at most 253 in all); PORT is 1-65535.
 *
 * <p>Access lists and rewrites are regular expressions over {@link #toString()}, so that string is
 * canonical: a destination has exactly one spelling, and a rule cannot be sidestepped by spelling the
 * same destination another way. Parsing therefore normalises what a rule writer would otherwise have
 * to anticipate:
 * <ul>
 *   <li>the scheme and DNS names are lowercased and a name's trailing dot is dropped;
 *   <li>IPv6 takes its RFC 5952 form (lowercase hex, the longest zero run as {@code ::}), and an
 *       IPv4-mapped address ({@code [::ffff:10.0.0.1]}) becomes the IPv4 address it reaches;
 *   <li>a host whose last label is a number ({@code 127.1}, {@code 0x7f.1}, {@code 2130706433}) must
 *       be a strict dotted quad: resolvers read those shorthands as addresses (inet_aton), which
 *       would carry {@code tcp://0x7f.1:22} past a rule denying {@code tcp://127\.0\.0\.1:.*};
 *   <li>http leaves out the default port 80, decodes percent-escaped unreserved characters,
 *       uppercases the other escapes and removes "." and ".." path segments (RFC 3986 section 6.2.2),
 *       so {@code /a/%2e%2e/admin} is {@code /admin}.
 * </ul>
 * Leading zeros in ports and octets are refused, not normalised: some tools read them as octal.
 */
public final class SocketUri {

    public enum Scheme {
        TCP(Family.STREAM), UDP(Family.DATAGRAM), DNS(Family.LOOKUP), HTTP(Family.STREAM);

        private final Family family;

        Scheme(Family family) {
            this.family = family;
        }

        public Family family() {
            return family;
        }

        /** The scheme as written in a URI: {@code tcp}. */
        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The kind of socket the guest opened. A rewrite keeps it, because the guest's socket goes on
     * behaving as what it opened: an HTTP request rides a stream just as a TCP connection does, but
     * a stream cannot turn into datagrams or a name lookup.
     */
    public enum Family { STREAM, DATAGRAM, LOOKUP }

    public enum HostKind { IPV4, IPV6, NAME }

    private static final int HTTP_DEFAULT_PORT = 80;
    private static final int MAX_NAME_LENGTH = 253;
    private static final int MAX_LABEL_LENGTH = 63;
    private static final int MAX_QUOTED_INPUT = 200;

    private final Scheme scheme;
    private final String host;
    private final HostKind hostKind;
    private final int port;
    private final String path;
    private final String text;

    private SocketUri(Scheme scheme, Host host, int port, String path) {
        this.scheme = scheme;
        this.host = host.text();
        this.hostKind = host.kind();
        this.port = port;
        this.path = path;
        this.text = switch (scheme) {
            case TCP, UDP -> scheme.text() + "://" + this.host + ":" + port;
            case DNS -> scheme.text() + "://" + this.host;
            case HTTP -> scheme.text() + "://" + this.host + (port == HTTP_DEFAULT_PORT ? "" : ":" + port) + path;
        };
    }

    /**
     * @throws IllegalArgumentException naming the input and what is wrong with it
     */
    public static SocketUri parse(String text) {
        Objects.requireNonNull(text, "text");
        try {
            return readUri(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid socket URI '" + quotable(text) + "': " + e.getMessage());
        }
    }

    /** @param host an IPv4 address, an IPv6 address with or without brackets, or a DNS name */
    public static SocketUri tcp(String host, int port) {
        return of(Scheme.TCP, host, port, "");
    }

    /** @param host an IPv4 address, an IPv6 address with or without brackets, or a DNS name */
    public static SocketUri udp(String host, int port) {
        return of(Scheme.UDP, host, port, "");
    }

    public static SocketUri dns(String name) {
        Objects.requireNonNull(name, "name");
        try {
            return new SocketUri(Scheme.DNS, lookupName(bracketBareIpv6(name)), 0, "");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid dns destination: " + e.getMessage());
        }
    }

    /**
     * @param host an IPv4 address, an IPv6 address with or without brackets, or a DNS name
     * @param path begins with '/' and may end in {@code ?query}
     */
    public static SocketUri http(String host, int port, String path) {
        return of(Scheme.HTTP, host, port, path);
    }

    public Scheme scheme() {
        return scheme;
    }

    /** The host as the URI writes it: an IPv6 address in brackets. */
    public String host() {
        return host;
    }

    /** {@code host} as a resolver or socket address takes it: an IPv6 address without its brackets. */
    public static String bareHost(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    public HostKind hostKind() {
        return hostKind;
    }

    /** The port, 80 for http when the URI leaves it out, 0 for dns (a lookup has none). */
    public int port() {
        return port;
    }

    /** The HTTP request target (path and query), empty for the other schemes. */
    public String path() {
        return path;
    }

    /** The canonical form, which access lists and rewrites match and {@link #parse} reads back. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SocketUri uri && uri.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    private static SocketUri of(Scheme scheme, String host, int port, String path) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(path, "path");
        try {
            Host parsedHost = host(bracketBareIpv6(host));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is out of range 1-65535");
            }
            if (scheme == Scheme.HTTP && !path.startsWith("/")) {
                throw new IllegalArgumentException("the path '" + quotable(path) + "' does not begin with '/'");
            }
            return new SocketUri(scheme, parsedHost, port, scheme == Scheme.HTTP ? requestTarget(path) : "");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + scheme.text() + " destination: " + e.getMessage());
        }
    }

    /** The factories take an IPv6 address with or without the brackets a URI needs. */
    private static String bracketBareIpv6(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static SocketUri readUri(String text) {
        int separator = text.indexOf("://");
        if (separator < 0) {
            throw new IllegalArgumentException("expected SCHEME://..., where SCHEME is tcp, udp, dns or http");
        }
        Scheme scheme = scheme(text.substring(0, separator));
        String rest = text.substring(separator + 3);
        return switch (scheme) {
            case TCP, UDP -> {
                if (rest.indexOf('/') >= 0 || rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0) {
                    throw new IllegalArgumentException(scheme.text() + " takes HOST:PORT and nothing after it");
                }
                yield authority(scheme, rest, 0, "");
            }
            case DNS -> {
                if (rest.indexOf(':') >= 0 || rest.indexOf('/') >= 0 || rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0) {
                    throw new IllegalArgumentException("dns takes a name only, without port or path");
                }
                yield new SocketUri(scheme, lookupName(rest), 0, "");
            }
            case HTTP -> {
                int pathStart = rest.length();
                for (char delimiter : new char[] {'/', '?', '#'}) {
                    int at = rest.indexOf(delimiter);
                    if (at >= 0) {
                        pathStart = Math.min(pathStart, at);
                    }
                }
                String path = rest.substring(pathStart);
                yield authority(scheme, rest.substring(0, pathStart), HTTP_DEFAULT_PORT,
                        requestTarget(path.startsWith("/") ? path : "/" + path));
            }
        };
    }

    private static Scheme scheme(String text) {
        // ASCII only: equalsIgnoreCase would also take U+017F (long s) for the s of dns.
        boolean ascii = text.chars().allMatch(c -> c < 128);
        for (Scheme scheme : Scheme.values()) {
            if (ascii && scheme.text().equalsIgnoreCase(text)) {
                return scheme;
            }
        }
        throw new IllegalArgumentException("unknown scheme '" + quotable(text) + "'; expected tcp, udp, dns or http");
    }

    /** HOST:PORT, or HOST alone when {@code defaultPort} is not 0. */
    private static SocketUri authority(Scheme scheme, String text, int defaultPort, String path) {
        if (text.indexOf('@') >= 0) {
            throw new IllegalArgumentException("user information ('...@') is not allowed");
        }
        String hostText;
        String portText;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("'[' without a closing ']'");
            }
            hostText = text.substring(0, close + 1);
            String after = text.substring(close + 1);
            if (!after.isEmpty() && after.charAt(0) != ':') {
                throw new IllegalArgumentException("unexpected '" + quotable(after) + "' after the IPv6 address");
            }
            portText = after.isEmpty() ? null : after.substring(1);
        } else {
            int colon = text.indexOf(':');
            if (colon != text.lastIndexOf(':')) {
                throw new IllegalArgumentException("'" + quotable(text)
                        + "' has more than one ':'; an IPv6 address must be in brackets, like [::1]");
            }
            hostText = colon < 0 ? text : text.substring(0, colon);
            portText = colon < 0 ? null : text.substring(colon + 1);
        }
        Host host = host(hostText);
        if (portText == null && defaultPort == 0) {
            throw new IllegalArgumentException("the port is missing; expected " + scheme.text() + "://HOST:PORT");
        }
        return new SocketUri(scheme, host, portText == null ? defaultPort : port(portText), path);
    }

    private static int port(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("the port is empty");
        }
        if (text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("port '" + quotable(text) + "' is not a number 1-65535");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 1-65535");
        }
        if (text.charAt(0) == '0') {
            throw new IllegalArgumentException("port '" + text + "' has a leading zero");
        }
        return port;
    }

    private record Host(String text, HostKind kind) {
    }

    private static Host host(String text) {
        if (text.startsWith("[")) {
            if (!text.endsWith("]")) {
                throw new IllegalArgumentException("'[' without a closing ']'");
            }
            return ipv6(text.substring(1, text.length() - 1));
        }
        String name = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
        if (name.isEmpty()) {
            throw new IllegalArgumentException("the host is missing");
        }
        if (isNumber(name.substring(name.lastIndexOf('.') + 1))) {
            return new Host(Ipv4Address.toString(Ipv4Address.parse(name)), HostKind.IPV4);
        }
        return new Host(dnsName(name), HostKind.NAME);
    }

    /** What inet_aton reads as a number: decimal, octal (also decimal digits) or 0x hex. */
    private static boolean isNumber(String label) {
        boolean hex = label.length() >= 2 && label.charAt(0) == '0' && (label.charAt(1) == 'x' || label.charAt(1) == 'X');
        String digits = hex ? label.substring(2) : label;
        return (hex || !label.isEmpty())
                && digits.chars().allMatch(c -> (c >= '0' && c <= '9') || (hex && Character.digit(c, 16) >= 0 && c < 128));
    }

    private static Host ipv6(String literal) {
        int zone = literal.indexOf('%');
        if (zone >= 0) {
            throw new IllegalArgumentException("the IPv6 zone '" + quotable(literal.substring(zone))
                    + "' is not allowed: it names an interface of the guest, meaningless on the host");
        }
        InetAddress address;
        try {
            if (literal.indexOf(':') < 0) {
                throw new IllegalArgumentException(literal);
            }
            address = Inet6Address.ofLiteral(literal);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + quotable(literal) + "' is not an IPv6 address");
        }
        if (address instanceof Inet4Address mapped) {
            return new Host(mapped.getHostAddress(), HostKind.IPV4);
        }
        return new Host("[" + rfc5952(address.getAddress()) + "]", HostKind.IPV6);
    }

    /** Lowercase hex without leading zeros; the longest run of two or more zero groups (the first of equals) as "::". */
    private static String rfc5952(byte[] address) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((address[2 * i] & 0xFF) << 8) | (address[2 * i + 1] & 0xFF);
        }
        int longestStart = -1;
        int longestLength = 1;
        for (int i = 0; i < 8; ) {
            int end = i;
            while (end < 8 && groups[end] == 0) {
                end++;
            }
            if (end - i > longestLength) {
                longestStart = i;
                longestLength = end - i;
            }
            i = Math.max(end, i + 1);
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == longestStart) {
                text.append("::");
                i += longestLength - 1;
                continue;
            }
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    private static Host lookupName(String text) {
        Host host = host(text);
        if (host.kind() != HostKind.NAME) {
            throw new IllegalArgumentException("a lookup takes a name, not the address " + host.text());
        }
        return host;
    }

    private static String dnsName(String name) {
        if (name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("the name is " + name.length() + " characters long; at most "
                    + MAX_NAME_LENGTH + " are allowed");
        }
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty()) {
                throw new IllegalArgumentException("the name '" + quotable(name) + "' has an empty label");
            }
            if (label.length() > MAX_LABEL_LENGTH) {
                throw new IllegalArgumentException("the label '" + label + "' is longer than " + MAX_LABEL_LENGTH + " characters");
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean letterOrDigit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (!letterOrDigit && c != '-') {
                    throw new IllegalArgumentException("the label '" + quotable(label) + "' has the character " + describe(c)
                            + "; labels are letters, digits and '-' (a non-ASCII name in its xn-- form)");
                }
            }
            if (label.startsWith("-") || label.endsWith("-")) {
                throw new IllegalArgumentException("the label '" + label + "' begins or ends with '-'");
            }
        }
        return name.toLowerCase(Locale.ROOT);
    }

    /** The normal form of an HTTP request target that begins with '/'. */
    private static String requestTarget(String text) {
        int queryAt = text.indexOf('?');
        String path = queryAt < 0 ? text : text.substring(0, queryAt);
        // Escapes first: %2E%2E must be removed as the ".." it is.
        String normalPath = removeDotSegments(normaliseEscapes(path, "path", false));
        return queryAt < 0 ? normalPath : normalPath + "?" + normaliseEscapes(text.substring(queryAt + 1), "query", true);
    }

    private static String normaliseEscapes(String text, String part, boolean inQuery) {
        StringBuilder normal = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%') {
                int high = i + 2 < text.length() ? hexDigit(text.charAt(i + 1)) : -1;
                int low = high >= 0 ? hexDigit(text.charAt(i + 2)) : -1;
                if (low < 0) {
                    throw new IllegalArgumentException("the " + part + " has a '%' not followed by two hex digits");
                }
                char decoded = (char) (high * 16 + low);
                if (isUnreserved(decoded)) {
                    normal.append(decoded);
                } else {
                    normal.append('%').append(Character.toUpperCase(text.charAt(i + 1))).append(Character.toUpperCase(text.charAt(i + 2)));
                }
                i += 2;
            } else if (isUnreserved(c) || "!$&'()*+,;=:@/".indexOf(c) >= 0 || (inQuery && c == '?')) {
                normal.append(c);
            } else {
                throw new IllegalArgumentException("the " + part + " has the character " + describe(c)
                        + (c == '#' ? "; a fragment is not part of an HTTP request" : "; write it percent-encoded"));
            }
        }
        return normal.toString();
    }

    private static int hexDigit(char c) {
        return c < 128 ? Character.digit(c, 16) : -1;
    }

    private static boolean isUnreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0;
    }

    /** RFC 3986 section 5.2.4 for an absolute path: ".." drops the segment before it, "." goes. */
    private static String removeDotSegments(String path) {
        String[] segments = path.substring(1).split("/", -1);
        Deque<String> kept = new ArrayDeque<>();
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            boolean dot = segment.equals(".");
            boolean dotDot = segment.equals("..");
            if (dotDot && !kept.isEmpty()) {
                kept.removeLast();
            }
            if (!dot && !dotDot) {
                kept.addLast(segment);
            } else if (i == segments.length - 1) {
                kept.addLast(""); // "/a/b/.." names the directory "/a/"
            }
        }
        return "/" + String.join("/", kept);
    }

    private static String describe(char c) {
        return c > ' ' && c < 127 ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    /** Guests choose URIs: a message quotes at most the start of one. */
    private static String quotable(String text) {
        return text.length() <= MAX_QUOTED_INPUT ? text : text.substring(0, MAX_QUOTED_INPUT) + "...";
    }
}
