package dev.vnet.vsock.mapper;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What one VM's offloaded sockets may do: its access list, its rewrites (the first that matches
 * applies), the handlers it may use, and whether a TCP connection to port 80 goes to the HTTP proxy.
 *
 * <p>A policy file is one JSON object:
 * <pre>{@code
 * {
 *   "vm": "web1",
 *   "default": "deny",
 *   "acl": [
 *     {"allow": "tcp://10\\.0\\.0\\.\\d+:80"},
 *     {"deny": "udp://.*"}
 *   ],
 *   "rewrite": [
 *     {"match": "tcp://foo\\.bar:80", "to": "tcp://foo.bar.secure:1234"}
 *   ],
 *   "handlers": ["tcp", "udp", "dns", "http"],
 *   "http_proxy_port80": true
 * }
 * }</pre>
 * <ul>
 *   <li>{@code vm} (required): the VM's name, as the host's VMM knows it.
 *   <li>{@code default}: {@code "allow"} or {@code "deny"} (the default) when no ACL entry matches.
 *   <li>{@code acl}: entries of exactly one of {@code allow} and {@code deny}, an RE2 pattern matched
 *       against the whole canonical URI ({@link SocketUri}); the first match decides. Entries are
 *       named {@code acl[0]}, {@code acl[1]}, ... in decisions and logs. Default none.
 *   <li>{@code rewrite}: entries of {@code match} (an RE2 pattern) and {@code to} (a URI, with
 *       {@code $1} for groups; see {@link RewriteRule}), applied to URIs the ACL allowed. Default none.
 *   <li>{@code handlers}: the handlers the VM may use; default all four.
 *   <li>{@code http_proxy_port80}: whether {@code tcp://HOST:80} goes to the HTTP handler (when that
 *       is enabled) rather than the TCP one; default true. The HTTP handler then decides each request
 *       again as an {@code http://HOST[:PORT]/PATH} URI, so the access list needs rules for those too.
 * </ul>
 * Loading is strict: an unknown field, a value of the wrong type, an invalid pattern or a missing
 * {@code vm} refuses the whole file with an error naming the file, the field and the entry's index.
 */
public record VmPolicy(String vm, AccessList acl, List<RewriteRule> rewrites, Set<HandlerKind> handlers, boolean httpProxyPort80) {

    public VmPolicy {
        Objects.requireNonNull(vm, "vm");
        if (vm.isBlank()) {
            throw new IllegalArgumentException("vm must not be blank");
        }
        Objects.requireNonNull(acl, "acl");
        rewrites = List.copyOf(rewrites);
        Set<HandlerKind> enabled = EnumSet.noneOf(HandlerKind.class);
        enabled.addAll(handlers);
        handlers = Collections.unmodifiableSet(enabled);
    }

    /**
     * @throws IllegalArgumentException naming the file, the field and the index of what is wrong
     * @throws IOException when the file cannot be read
     */
    public static VmPolicy load(Path file) throws IOException {
        String json;
        try {
            json = Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text");
        }
        return parse(json, file.toString());
    }

    /**
     * @param source how errors name where {@code json} came from, a file name for example
     * @throws IllegalArgumentException naming the source, the field and the index of what is wrong
     */
    public static VmPolicy parse(String json, String source) {
        return VmPolicyJson.parse(json, source);
    }

    public boolean enables(HandlerKind handler) {
        return handlers.contains(handler);
    }
}
