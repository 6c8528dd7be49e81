package dev.vnet.vsock.mapper;

import dev.vnet.vsock.mapper.AccessList.Action;
import dev.vnet.vsock.mapper.AccessList.Rule;
import dev.vnet.vsock.mapper.AccessList.Verdict;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AccessListTest {

    private static Rule allow(int index, String regex) {
        return new Rule(Action.ALLOW, regex, "acl[" + index + "]", index);
    }

    private static Rule deny(int index, String regex) {
        return new Rule(Action.DENY, regex, "acl[" + index + "]", index);
    }

    @Test
    void theFirstMatchingRuleWins() {
        AccessList acl = new AccessList(List.of(
                deny(0, "tcp://10\\.0\\.0\\.13:80"),
                allow(1, "tcp://10\\.0\\.0\\.\\d+:80"),
                deny(2, "tcp://.*")), Action.DENY);

        Verdict thirteen = acl.evaluate(SocketUri.parse("tcp://10.0.0.13:80"));
        assertThat(thirteen.action()).isEqualTo(Action.DENY);
        assertThat(thirteen.rule().name()).isEqualTo("acl[0]");

        Verdict seven = acl.evaluate(SocketUri.parse("tcp://10.0.0.7:80"));
        assertThat(seven.action()).isEqualTo(Action.ALLOW);
        assertThat(seven.rule().index()).isEqualTo(1);

        assertThat(acl.evaluate(SocketUri.parse("tcp://10.0.0.7:443")).rule().index()).isEqualTo(2);
    }

    @Test
    void theDefaultDecidesWhenNoRuleMatches() {
        SocketUri uri = SocketUri.parse("udp://10.0.0.1:53");

        Verdict whitelist = new AccessList(List.of(allow(0, "tcp://.*")), Action.DENY).evaluate(uri);
        assertThat(whitelist.action()).isEqualTo(Action.DENY);
        assertThat(whitelist.byDefault()).isTrue();

        Verdict blacklist = new AccessList(List.of(deny(0, "tcp://.*")), Action.ALLOW).evaluate(uri);
        assertThat(blacklist.action()).isEqualTo(Action.ALLOW);
        assertThat(blacklist.byDefault()).isTrue();

        assertThat(new AccessList(List.of(), Action.DENY).evaluate(uri).action()).isEqualTo(Action.DENY);
    }

    @Test
    void aPatternMustMatchTheWholeUri() {
        AccessList acl = new AccessList(List.of(allow(0, "tcp://foo\\.bar:80")), Action.DENY);

        assertThat(acl.evaluate(SocketUri.parse("tcp://foo.bar:80")).action()).isEqualTo(Action.ALLOW);
        assertThat(acl.evaluate(SocketUri.parse("tcp://foo.bar:8080")).action()).isEqualTo(Action.DENY);
        assertThat(acl.evaluate(SocketUri.parse("tcp://xfoo.bar:80")).action()).isEqualTo(Action.DENY);
    }

    @Test
    void rulesSeeTheCanonicalSpelling() {
        AccessList acl = new AccessList(List.of(deny(0, "tcp://127\\.0\\.0\\.1:.*")), Action.ALLOW);

        assertThat(acl.evaluate(SocketUri.parse("tcp://[::ffff:127.0.0.1]:22")).action()).isEqualTo(Action.DENY);
        assertThat(acl.evaluate(SocketUri.parse("TCP://127.0.0.1.:22")).action()).isEqualTo(Action.DENY);
    }

    @Test
    void aPathologicalPatternAnswersOnAHugeInput() {
        // (a+)+$ backtracks exponentially in java.util.regex on a's followed by a mismatch.
        String path = "/" + "a".repeat(10_000);
        AccessList acl = new AccessList(List.of(
                allow(0, "http://h/(a+)+$"),
                deny(1, "http://h/(a|aa)+b")), Action.DENY);

        assertThat(acl.evaluate(SocketUri.parse("http://h" + path)).rule().index()).isEqualTo(0);
        Verdict mismatch = acl.evaluate(SocketUri.parse("http://h" + path + "!"));
        assertThat(mismatch.byDefault()).isTrue();
        assertThat(mismatch.action()).isEqualTo(Action.DENY);
    }

    @Test
    void anInvalidPatternIsRefusedNamingTheRule() {
        assertThatThrownBy(() -> deny(3, "tcp://(foo"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("acl[3].deny: invalid regular expression 'tcp://(foo': missing closing )");
        assertThatThrownBy(() -> allow(0, "(?<=x)y"))
                .hasMessageStartingWith("acl[0].allow: invalid regular expression '(?<=x)y': ");
    }
}
