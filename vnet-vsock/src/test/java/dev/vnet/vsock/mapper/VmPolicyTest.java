package dev.vnet.vsock.mapper;

import dev.vnet.vsock.mapper.AccessList.Action;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmPolicyTest {

    static final String WEB1 = """
            {"vm": "web1", "default": "deny",
             "acl": [{"allow": "tcp://10\\\\.0\\\\.0\\\\.\\\\d+:80"}, {"deny": "udp://.*"}],
             "rewrite": [{"match": "tcp://foo\\\\.bar:80", "to": "tcp://foo.bar.secure:1234"}]}
            """;

    @Test
    void loadsTheDocumentedExample(@TempDir Path directory) throws IOException {
        Path file = Files.writeString(directory.resolve("web1.json"), WEB1);

        VmPolicy policy = VmPolicy.load(file);

        assertThat(policy.vm()).isEqualTo("web1");
        assertThat(policy.acl().defaultAction()).isEqualTo(Action.DENY);
        assertThat(policy.acl().rules()).extracting(AccessList.Rule::toString)
                .containsExactly("acl[0] allow tcp://10\\.0\\.0\\.\\d+:80", "acl[1] deny udp://.*");
        assertThat(policy.rewrites()).extracting(RewriteRule::toString)
                .containsExactly("rewrite[0] tcp://foo\\.bar:80 -> tcp://foo.bar.secure:1234");
        assertThat(policy.handlers()).containsExactlyInAnyOrder(HandlerKind.values());
        assertThat(policy.httpProxyPort80()).isTrue();
    }

    @Test
    void leavesOutWhatHasADefault() {
        VmPolicy policy = VmPolicy.parse("{\"vm\": \"db1\"}", "db1.json");

        assertThat(policy.acl().rules()).isEmpty();
        assertThat(policy.acl().defaultAction()).isEqualTo(Action.DENY);
        assertThat(policy.rewrites()).isEmpty();
        assertThat(policy.handlers()).containsExactlyInAnyOrder(HandlerKind.values());
        assertThat(policy.httpProxyPort80()).isTrue();
    }

    @Test
    void readsHandlersAndThePort80Switch() {
        VmPolicy policy = VmPolicy.parse("""
                {"vm": "db1", "default": "allow", "handlers": ["tcp", "dns"], "http_proxy_port80": false}
                """, "db1.json");

        assertThat(policy.acl().defaultAction()).isEqualTo(Action.ALLOW);
        assertThat(policy.handlers()).containsExactlyInAnyOrder(HandlerKind.TCP, HandlerKind.DNS);
        assertThat(policy.enables(HandlerKind.UDP)).isFalse();
        assertThat(policy.httpProxyPort80()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {}                                                 | vm is required
            []                                                 | the policy must be a JSON object, not an array
            {"vm": 7}                                          | vm must be a string, not the number 7
            {"vm": null}                                       | vm must be a string, not null
            {"vm": " "}                                        | vm must not be blank
            {"vm": "a", "acls": []}                            | unknown field 'acls' in the policy; known fields: acl, default, handlers, http_proxy_port80, rewrite, vm
            {"vm": "a", "default": "maybe"}                    | default must be "allow" or "deny", not "maybe"
            {"vm": "a", "acl": {"allow": ".*"}}                | acl must be an array, not an object
            {"vm": "a", "acl": [{"allow": ".*"}, "x"]}         | acl[1] must be a JSON object, not the string "x"
            {"vm": "a", "acl": [{"allow": ".*"}, {}]}          | acl[1] is empty; an entry is {"allow": PATTERN} or {"deny": PATTERN}
            {"vm": "a", "acl": [{"allow": ".*", "deny": "x"}]} | acl[0] has both allow and deny; an entry is {"allow": PATTERN} or {"deny": PATTERN}
            {"vm": "a", "acl": [{"alow": ".*"}]}               | unknown field 'alow' in acl[0]; known fields: allow, deny
            {"vm": "a", "acl": [{"deny": 1}]}                  | acl[0].deny must be a string, not the number 1
            {"vm": "a", "acl": [{"allow": "x"}, {"deny": "("}]} | acl[1].deny: invalid regular expression '(': missing closing )
            {"vm": "a", "rewrite": [{"match": "x"}]}           | rewrite[0].to is required
            {"vm": "a", "rewrite": [{"match": "(", "to": "tcp://h:1"}]} | rewrite[0].match: invalid regular expression '(': missing closing )
            {"vm": "a", "rewrite": [{"match": "x", "to": "tcp://h:1", "name": "n"}]} | unknown field 'name' in rewrite[0]; known fields: match, to
            {"vm": "a", "rewrite": [{"match": "(x)", "to": "tcp://$2:1"}]} | rewrite[0].to: refers to $2, but match has 1 group
            {"vm": "a", "handlers": ["tcp", "ftp"]}            | handlers[1] must be one of "tcp", "udp", "dns" and "http", not the string "ftp"
            {"vm": "a", "http_proxy_port80": "yes"}            | http_proxy_port80 must be true or false, not the string "yes"
            {"vm": "a", "vm": "b"}                             | not valid JSON: Duplicate field 'vm'
            {"vm": "a"} {}                                     | not valid JSON: Trailing token
            {"vm": "a",                                        | not valid JSON: Unexpected end-of-input
            """)
    void refusesBadInputNamingTheFileAndTheField(String json, String problem) {
        assertThatThrownBy(() -> VmPolicy.parse(json, "/etc/vnet/vsock/a.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("/etc/vnet/vsock/a.json: " + problem);
    }

    @Test
    void aFileErrorNamesThePathAndTheLine(@TempDir Path directory) throws IOException {
        Path file = Files.writeString(directory.resolve("broken.json"), "{\"vm\": \"a\",\n \"acl\": [\n}");

        assertThatThrownBy(() -> VmPolicy.load(file))
                .hasMessageStartingWith(file + ": not valid JSON: ")
                .hasMessageContaining("(line 3, column 1)");
    }

    @Test
    void aFileThatIsNotUtf8IsRefused(@TempDir Path directory) throws IOException {
        Path file = Files.write(directory.resolve("latin1.json"), new byte[] {'{', (byte) 0xE9, '}'});

        assertThatThrownBy(() -> VmPolicy.load(file)).hasMessage(file + ": not UTF-8 text");
    }
}
