package dev.vnet.vsock.mapper;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the policy file format {@link VmPolicy} documents, strictly: from a tree rather than by
 * binding to classes, so every complaint can name its field by path ({@code acl[2].deny}) and
 * say what was expected.
 */
final class VmPolicyJson {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final Set<String> POLICY_FIELDS = Set.of("vm", "default", "acl", "rewrite", "handlers", "http_proxy_port80");
    private static final Set<String> ACL_FIELDS = Set.of("allow", "deny");
    private static final Set<String> REWRITE_FIELDS = Set.of("match", "to");

    private VmPolicyJson() {
    }

    static VmPolicy parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        }
        try {
            return policy(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage());
        }
    }

    private static VmPolicy policy(JsonNode root) {
        requireObject(root, "the policy", POLICY_FIELDS);
        String vm = text(root, "vm", "vm");
        if (vm == null) {
            throw new IllegalArgumentException("vm is required");
        }
        if (vm.isBlank()) {
            throw new IllegalArgumentException("vm must not be blank");
        }
        String defaultText = text(root, "default", "default");
        AccessList.Action defaultAction = defaultText == null ? AccessList.Action.DENY : action(defaultText, "default");

        List<AccessList.Rule> rules = new ArrayList<>();
        List<JsonNode> aclEntries = array(root, "acl");
        for (int i = 0; i < aclEntries.size(); i++) {
            rules.add(aclRule(aclEntries.get(i), i));
        }
        List<RewriteRule> rewrites = new ArrayList<>();
        List<JsonNode> rewriteEntries = array(root, "rewrite");
        for (int i = 0; i < rewriteEntries.size(); i++) {
            String path = "rewrite[" + i + "]";
            JsonNode entry = rewriteEntries.get(i);
            requireObject(entry, path, REWRITE_FIELDS);
            String match = requiredText(entry, "match", path + ".match");
            String to = requiredText(entry, "to", path + ".to");
            rewrites.add(new RewriteRule(match, to, path, i));
        }
        Set<HandlerKind> handlers = root.has("handlers") ? EnumSet.noneOf(HandlerKind.class) : EnumSet.allOf(HandlerKind.class);
        List<JsonNode> handlerEntries = array(root, "handlers");
        for (int i = 0; i < handlerEntries.size(); i++) {
            handlers.add(handler(handlerEntries.get(i), "handlers[" + i + "]"));
        }
        boolean httpProxyPort80 = true;
        JsonNode port80 = root.get("http_proxy_port80");
        if (port80 != null) {
            if (!port80.isBoolean()) {
                throw new IllegalArgumentException("http_proxy_port80 must be true or false, not " + describe(port80));
            }
            httpProxyPort80 = port80.booleanValue();
        }
        return new VmPolicy(vm, new AccessList(rules, defaultAction), rewrites, handlers, httpProxyPort80);
    }

    private static AccessList.Rule aclRule(JsonNode entry, int index) {
        String path = "acl[" + index + "]";
        String shape = "; an entry is {\"allow\": PATTERN} or {\"deny\": PATTERN}";
        if (entry.isObject() && entry.size() != 1) {
            requireObject(entry, path, ACL_FIELDS);
            throw new IllegalArgumentException(path + (entry.isEmpty() ? " is empty" : " has both allow and deny") + shape);
        }
        requireObject(entry, path, ACL_FIELDS);
        AccessList.Action action = entry.has("allow") ? AccessList.Action.ALLOW : AccessList.Action.DENY;
        String regex = requiredText(entry, action.text(), path + "." + action.text());
        return new AccessList.Rule(action, regex, path, index);
    }

    private static HandlerKind handler(JsonNode node, String path) {
        if (node.isTextual()) {
            for (HandlerKind kind : HandlerKind.values()) {
                if (kind.text().equals(node.textValue())) {
                    return kind;
                }
            }
        }
        throw new IllegalArgumentException(path + " must be one of \"tcp\", \"udp\", \"dns\" and \"http\", not " + describe(node));
    }

    private static AccessList.Action action(String text, String path) {
        for (AccessList.Action action : AccessList.Action.values()) {
            if (action.text().equals(text)) {
                return action;
            }
        }
        throw new IllegalArgumentException(path + " must be \"allow\" or \"deny\", not \"" + text + "\"");
    }

    private static void requireObject(JsonNode node, String path, Set<String> known) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(path + " must be a JSON object, not " + describe(node));
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new IllegalArgumentException("unknown field '" + name + "' in " + path
                        + "; known fields: " + String.join(", ", new TreeSet<>(known)));
            }
        }
    }

    /** The elements of an optional array field; none when it is absent. */
    private static List<JsonNode> array(JsonNode object, String field) {
        JsonNode node = object.get(field);
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new IllegalArgumentException(field + " must be an array, not " + describe(node));
        }
        List<JsonNode> elements = new ArrayList<>();
        node.forEach(elements::add);
        return elements;
    }

    /** An optional string field; null when it is absent. */
    private static String text(JsonNode object, String field, String path) {
        JsonNode node = object.get(field);
        if (node == null) {
            return null;
        }
        if (!node.isTextual()) {
            throw new IllegalArgumentException(path + " must be a string, not " + describe(node));
        }
        return node.textValue();
    }

    private static String requiredText(JsonNode object, String field, String path) {
        String text = text(object, field, path);
        if (text == null) {
            throw new IllegalArgumentException(path + " is required");
        }
        return text;
    }

    private static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "the string " + node;
            case NUMBER -> "the number " + node;
            case BOOLEAN -> node.toString();
            case NULL -> "null";
            case MISSING -> "nothing";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }
}
