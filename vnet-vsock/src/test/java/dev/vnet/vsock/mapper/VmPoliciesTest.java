package dev.vnet.vsock.mapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmPoliciesTest {
    @TempDir
    Path directory;

    private void write(String file, String json) throws IOException {
        Files.writeString(directory.resolve(file), json);
    }

    @Test
    void reloadsEveryJsonFileOfTheDirectory() throws IOException {
        write("web1.json", VmPolicyTest.WEB1);
        write("db1.json", "{\"vm\": \"db1\", \"default\": \"allow\"}");
        write("notes.txt", "not a policy");
        VmPolicies policies = new VmPolicies();

        assertThat(policies.reload(directory)).isEqualTo(2);

        assertThat(policies.all()).containsOnlyKeys("web1", "db1");
        assertThat(policies.find("db1")).hasValueSatisfying(policy ->
                assertThat(policy.acl().defaultAction()).isEqualTo(AccessList.Action.ALLOW));
        assertThat(policies.find("web2")).isEmpty();
    }

    @Test
    void aBadFileLeavesThePreviousPoliciesInForce() throws IOException {
        write("web1.json", VmPolicyTest.WEB1);
        VmPolicies policies = new VmPolicies();
        policies.reload(directory);
        var before = policies.all();

        write("db1.json", "{\"vm\": \"db1\"}");
        write("web1.json", "{\"vm\": \"web1\", \"acl\": [{\"allow\": \"(\"}]}");
        write("web2.json", "{\"vm\": \"web2\", \"acls\": []}");

        assertThatThrownBy(() -> policies.reload(directory))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("policies in " + directory + " not reloaded; the 1 in force stay:\n"
                        + directory.resolve("web1.json") + ": acl[0].allow: invalid regular expression '(': missing closing )\n"
                        + directory.resolve("web2.json") + ": unknown field 'acls' in the policy; known fields: "
                        + "acl, default, handlers, http_proxy_port80, rewrite, vm");
        assertThat(policies.all()).isSameAs(before).containsOnlyKeys("web1");
        assertThat(policies.find("web1").orElseThrow().acl().rules()).hasSize(2);
    }

    @Test
    void twoFilesForOneVmAreRefused() throws IOException {
        write("a.json", "{\"vm\": \"web1\"}");
        write("b.json", "{\"vm\": \"web1\"}");
        VmPolicies policies = new VmPolicies();

        assertThatThrownBy(() -> policies.reload(directory))
                .hasMessageEndingWith(directory.resolve("b.json") + ": vm 'web1' already has a policy in " + directory.resolve("a.json"));
        assertThat(policies.all()).isEmpty();
    }

    @Test
    void anEmptyDirectoryLeavesNoPolicies() throws IOException {
        VmPolicies policies = new VmPolicies(List.of(VmPolicy.parse("{\"vm\": \"web1\"}", "test")));

        assertThat(policies.reload(directory)).isZero();
        assertThat(policies.all()).isEmpty();
    }

    @Test
    void replaceRefusesTwoPoliciesForOneVm() {
        VmPolicy web1 = VmPolicy.parse("{\"vm\": \"web1\"}", "test");
        VmPolicies policies = new VmPolicies(List.of(web1));

        assertThatThrownBy(() -> policies.replace(List.of(web1, web1))).hasMessage("two policies for vm 'web1'");
        assertThat(policies.all()).containsOnlyKeys("web1");
    }
}
