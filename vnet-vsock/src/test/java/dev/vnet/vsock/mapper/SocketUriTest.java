package dev.vnet.vsock.mapper;

import dev.vnet.vsock.mapper.SocketUri.HostKind;
import dev.vnet.vsock.mapper.SocketUri.Scheme;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SocketUriTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            tcp://10.0.0.1:80                    | tcp://10.0.0.1:80
            TCP://Foo.Bar:443                    | tcp://foo.bar:443
            udp://ns1.example.com.:53            | udp://ns1.example.com:53
            tcp://[2001:DB8:0:0:0:0:0:1]:22      | tcp://[2001:db8::1]:22
            tcp://[0:0:0:0:0:0:0:1]:22           | tcp://[::1]:22
            tcp://[2001:db8:0:0:1:0:0:1]:22      | tcp://[2001:db8::1:0:0:1]:22
            tcp://[2001:db8:0:1:1:1:1:1]:22      | tcp://[2001:db8:0:1:1:1:1:1]:22
            udp://[::ffff:10.0.0.1]:53           | udp://10.0.0.1:53
            dns://WWW.Example.COM.               | dns://www.example.com
            dns://xn--bcher-kva.example          | dns://xn--bcher-kva.example
            http://example.com                   | http://example.com/
            http://example.com:80/index.html     | http://example.com/index.html
            http://example.com:8080/a?b=c        | http://example.com:8080/a?b=c
            http://example.com?q=1               | http://example.com/?q=1
            http://h/a/b/../c/./d                | http://h/a/c/d
            http://h/a/%2e%2E/admin              | http://h/admin
            http://h/a/b/..                      | http://h/a/
            http://h/../../x                     | http://h/x
            http://h/%7efred/%3a%2f              | http://h/~fred/%3A%2F
            http://h/p?x=/../y&z=%41             | http://h/p?x=/../y&z=A
            http://[::1]:8080/                   | http://[::1]:8080/
            """)
    void parsesToTheCanonicalForm(String input, String canonical) {
        SocketUri uri = SocketUri.parse(input);

        assertThat(uri).hasToString(canonical);
        assertThat(SocketUri.parse(canonical)).isEqualTo(uri);
    }

    @Test
    void exposesItsParts() {
        SocketUri tcp = SocketUri.parse("tcp://[2001:db8::1]:22");
        assertThat(tcp.scheme()).isEqualTo(Scheme.TCP);
        assertThat(tcp.host()).isEqualTo("[2001:db8::1]");
        assertThat(tcp.hostKind()).isEqualTo(HostKind.IPV6);
        assertThat(tcp.port()).isEqualTo(22);
        assertThat(tcp.path()).isEmpty();

        SocketUri http = SocketUri.parse("http://Example.com/x?y");
        assertThat(http.hostKind()).isEqualTo(HostKind.NAME);
        assertThat(http.port()).isEqualTo(80);
        assertThat(http.path()).isEqualTo("/x?y");

        SocketUri dns = SocketUri.parse("dns://example.com");
        assertThat(dns.port()).isZero();
        assertThat(SocketUri.parse("udp://10.1.2.3:53").hostKind()).isEqualTo(HostKind.IPV4);
    }

    @Test
    void factoriesBuildWhatParseReads() {
        assertThat(SocketUri.tcp("Foo.Bar", 80)).isEqualTo(SocketUri.parse("tcp://foo.bar:80"));
        assertThat(SocketUri.udp("::1", 53)).isEqualTo(SocketUri.parse("udp://[::1]:53"));
        assertThat(SocketUri.udp("[::1]", 53)).isEqualTo(SocketUri.parse("udp://[::1]:53"));
        assertThat(SocketUri.dns("Example.com.")).isEqualTo(SocketUri.parse("dns://example.com"));
        assertThat(SocketUri.http("example.com", 80, "/a/./b")).hasToString("http://example.com/a/b");
        assertThat(SocketUri.http("example.com", 8080, "/")).hasToString("http://example.com:8080/");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            10.0.0.1:80                  | expected SCHEME://..., where SCHEME is tcp, udp, dns or http
            ftp://h:21                   | unknown scheme 'ftp'; expected tcp, udp, dns or http
            tcp://h                      | the port is missing; expected tcp://HOST:PORT
            tcp://h:                     | the port is empty
            tcp://h:0                    | port 0 is out of range 1-65535
            tcp://h:65536                | port 65536 is out of range 1-65535
            tcp://h:080                  | port '080' has a leading zero
            tcp://h:8o                   | port '8o' is not a number 1-65535
            tcp://h:80/x                 | tcp takes HOST:PORT and nothing after it
            tcp://:80                    | the host is missing
            tcp://user@h:80              | user information ('...@') is not allowed
            tcp://::1:80                 | '::1:80' has more than one ':'; an IPv6 address must be in brackets, like [::1]
            tcp://[::1:80                | '[' without a closing ']'
            tcp://[::1]x:80              | unexpected 'x:80' after the IPv6 address
            tcp://[::g]:80               | '::g' is not an IPv6 address
            tcp://[10.0.0.1]:80          | '10.0.0.1' is not an IPv6 address
            tcp://[fe80::1%eth0]:80      | the IPv6 zone '%eth0' is not allowed
            tcp://10.0.0.256:80          | invalid IPv4 address '10.0.0.256'
            tcp://010.0.0.1:80           | invalid IPv4 address '010.0.0.1'
            tcp://0x7f.1:22              | invalid IPv4 address '0x7f.1'
            tcp://127.1:22               | invalid IPv4 address '127.1'
            tcp://2130706433:22          | invalid IPv4 address '2130706433'
            tcp://a..b:80                | the name 'a..b' has an empty label
            tcp://-a.b:80                | the label '-a' begins or ends with '-'
            tcp://a_b.c:80               | the label 'a_b' has the character '_'
            tcp://bücher.example:80      | the label 'bücher' has the character U+00FC
            dns://h:53                   | dns takes a name only, without port or path
            dns://10.0.0.1               | a lookup takes a name, not the address 10.0.0.1
            http://h/a b                 | the path has the character U+0020; write it percent-encoded
            http://h/a#frag              | the path has the character '#'; a fragment is not part of an HTTP request
            http://h/a%zz                | the path has a '%' not followed by two hex digits
            http://h/a?b=%4              | the query has a '%' not followed by two hex digits
            """)
    void refusesWithAMessageNamingTheProblem(String input, String problem) {
        assertThatThrownBy(() -> SocketUri.parse(input))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid socket URI '" + input + "': ")
                .hasMessageContaining(problem);
    }

    @Test
    void refusesOverlongNamesAndLabels() {
        String label63 = "a".repeat(63);
        String name253 = String.join(".", label63, label63, label63, "a".repeat(61));
        assertThat(SocketUri.dns(name253).host()).hasSize(253);

        assertThatThrownBy(() -> SocketUri.dns(name253 + "a"))
                .hasMessage("invalid dns destination: the name is 254 characters long; at most 253 are allowed");
        assertThatThrownBy(() -> SocketUri.parse("dns://" + "a".repeat(64) + ".example"))
                .hasMessageContaining("the label '" + "a".repeat(64) + "' is longer than 63 characters");
    }

    @Test
    void factoriesNameTheSchemeInTheirErrors() {
        assertThatThrownBy(() -> SocketUri.tcp("h", 0)).hasMessage("invalid tcp destination: port 0 is out of range 1-65535");
        assertThatThrownBy(() -> SocketUri.udp("", 53)).hasMessage("invalid udp destination: the host is missing");
        assertThatThrownBy(() -> SocketUri.http("h", 80, "x")).hasMessage("invalid http destination: the path 'x' does not begin with '/'");
        assertThatThrownBy(() -> SocketUri.dns("::1")).hasMessage("invalid dns destination: a lookup takes a name, not the address [::1]");
    }

    @Test
    void quotesOnlyTheStartOfAHugeInput() {
        String huge = "ftp://" + "x".repeat(10_000);
        assertThatThrownBy(() -> SocketUri.parse(huge))
                .message().hasSizeLessThan(600).contains("...");
    }
}
