package dev.vnet.vsock.mapper;

import dev.vnet.vsock.mapper.RewriteRule.Invalid;
import dev.vnet.vsock.mapper.RewriteRule.NoMatch;
import dev.vnet.vsock.mapper.RewriteRule.Rewritten;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RewriteRuleTest {

    private static RewriteRule rule(String match, String to) {
        return new RewriteRule(match, to, "rewrite[0]", 0);
    }

    @Test
    void rewritesAWholeMatch() {
        RewriteRule secure = rule("tcp://foo\\.bar:80", "tcp://foo.bar.secure:1234");

        assertThat(secure.apply(SocketUri.parse("tcp://foo.bar:80")))
                .isEqualTo(new Rewritten(SocketUri.parse("tcp://foo.bar.secure:1234")));
        assertThat(secure.apply(SocketUri.parse("tcp://foo.bar:8080"))).isInstanceOf(NoMatch.class);
        assertThat(secure.apply(SocketUri.parse("tcp://a.foo.bar:80"))).isInstanceOf(NoMatch.class);
    }

    @Test
    void fillsInGroupReferences() {
        RewriteRule internal = rule("tcp://([a-z0-9-]+)\\.internal:(\\d+)", "tcp://$1.internal.example.net:1$2");

        assertThat(internal.apply(SocketUri.parse("tcp://db.internal:5432")))
                .isEqualTo(new Rewritten(SocketUri.parse("tcp://db.internal.example.net:15432")));
    }

    @Test
    void readsGroupNumbersAsJavaRegexDoes() {
        RewriteRule oneGroup = rule("http://h/(x)", "http://h/$10\\$$0");
        assertThat(oneGroup.apply(SocketUri.parse("http://h/x")))
                .isEqualTo(new Rewritten(SocketUri.parse("http://h/x0$http://h/x")));

        RewriteRule optional = rule("http://h/(a)?b", "http://h/[$1]");
        assertThat(optional.apply(SocketUri.parse("http://h/b"))).isInstanceOf(Invalid.class);
        RewriteRule optionalInPath = rule("http://h/(a)?b", "http://h/$1c");
        assertThat(optionalInPath.apply(SocketUri.parse("http://h/b")))
                .isEqualTo(new Rewritten(SocketUri.parse("http://h/c")));
    }

    @Test
    void aResultThatIsNotAUriIsInvalidNotAnException() {
        RewriteRule badPort = rule("tcp://(.*):(\\d+)", "tcp://$1:9$2");

        assertThat(badPort.apply(SocketUri.parse("tcp://h:80"))).isEqualTo(new Rewritten(SocketUri.parse("tcp://h:980")));
        assertThat(badPort.apply(SocketUri.parse("tcp://h:65535"))).isEqualTo(new Invalid("tcp://h:965535",
                "invalid socket URI 'tcp://h:965535': port '965535' is not a number 1-65535"));
    }

    @Test
    void aResultOfAnotherSocketFamilyIsInvalid() {
        RewriteRule toUdp = rule("tcp://(.*)", "udp://$1");

        assertThat(toUdp.apply(SocketUri.parse("tcp://h:53"))).isEqualTo(new Invalid("udp://h:53",
                "a tcp destination cannot become a udp one: the guest's socket stays the kind it opened"));
        assertThat(rule("tcp://(.*):80", "http://$1/").apply(SocketUri.parse("tcp://h:80")))
                .isEqualTo(new Rewritten(SocketUri.parse("http://h/")));
    }

    @Test
    void refusesAnUnusableRuleWhenMade() {
        assertThatThrownBy(() -> rule("tcp://(", "tcp://h:1"))
                .hasMessage("rewrite[0].match: invalid regular expression 'tcp://(': missing closing )");
        assertThatThrownBy(() -> rule("tcp://(a)(b)", "tcp://$3:1"))
                .hasMessage("rewrite[0].to: refers to $3, but match has 2 groups");
        assertThatThrownBy(() -> rule("tcp://.*", "tcp://h:$x"))
                .hasMessage("rewrite[0].to: '$' at 8 is not followed by a group number; write \\$ for a dollar sign");
        assertThatThrownBy(() -> rule("tcp://.*", "tcp://h:1\\"))
                .hasMessage("rewrite[0].to: ends in a lone '\\'");
        assertThatThrownBy(() -> rule("tcp://.*", "tcp://h"))
                .hasMessage("rewrite[0].to: invalid socket URI 'tcp://h': the port is missing; expected tcp://HOST:PORT");
    }
}
