package dev.vnet.vsock.mapper;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.vnet.vsock.mapper.Decision.Outcome;
import dev.vnet.vsock.mapper.Decision.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SocketMapperTest {
    private final Logger log = (Logger) LoggerFactory.getLogger(SocketMapper.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void captureTheLog() {
        logged.start();
        log.addAppender(logged);
        log.setLevel(Level.INFO);
        log.setAdditive(false);
    }

    @AfterEach
    void releaseTheLog() {
        log.detachAppender(logged);
        log.setLevel(null);
        log.setAdditive(true);
    }

    private static SocketMapper mapper(String... policies) {
        return new SocketMapper(new VmPolicies(
                Arrays.stream(policies).map(json -> VmPolicy.parse(json, "test")).toList()));
    }

    private static SocketUri uri(String text) {
        return SocketUri.parse(text);
    }

    @Test
    void allowsByRuleRewritesAndPicksTheHandler() {
        SocketMapper mapper = mapper("""
                {"vm": "web1", "acl": [{"allow": "tcp://foo\\\\.bar:80"}, {"allow": "dns://.*"}],
                 "rewrite": [{"match": "tcp://foo\\\\.bar:80", "to": "tcp://foo.bar.secure:1234"}]}
                """);

        Decision rewritten = mapper.map("web1", uri("tcp://foo.bar:80"));
        assertThat(rewritten).isEqualTo(new Decision(Outcome.ALLOWED, uri("tcp://foo.bar.secure:1234"), HandlerKind.TCP,
                new Reason(Reason.Kind.ACL_RULE, "acl[0]", 0, "tcp://foo\\.bar:80")));

        Decision lookup = mapper.map("web1", uri("dns://example.com"));
        assertThat(lookup.outcome()).isEqualTo(Outcome.ALLOWED);
        assertThat(lookup.uri()).isEqualTo(uri("dns://example.com"));
        assertThat(lookup.handler()).isEqualTo(HandlerKind.DNS);
        assertThat(lookup.reason().toString()).isEqualTo("acl[1] dns://.*");
        assertThat(logged.list).isEmpty();
    }

    @Test
    void theRewriteTargetNeedsNoRuleOfItsOwn() {
        SocketMapper mapper = mapper("""
                {"vm": "web1", "acl": [{"allow": "tcp://foo\\\\.bar:80"}, {"deny": "tcp://foo\\\\.bar\\\\.secure:.*"}],
                 "rewrite": [{"match": "tcp://foo\\\\.bar:80", "to": "tcp://foo.bar.secure:1234"}]}
                """);

        assertThat(mapper.map("web1", uri("tcp://foo.bar:80")).allowed()).isTrue();
        assertThat(mapper.map("web1", uri("tcp://foo.bar.secure:1234")).allowed()).isFalse();
    }

    @Test
    void rewritesOnlyWhatTheAccessListAllowed() {
        SocketMapper mapper = mapper("""
                {"vm": "web1", "acl": [{"deny": "tcp://foo\\\\.bar:80"}], "default": "allow",
                 "rewrite": [{"match": "tcp://foo\\\\.bar:80", "to": "tcp://foo.bar.secure:1234"}]}
                """);

        Decision decision = mapper.map("web1", uri("tcp://foo.bar:80"));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENIED);
        assertThat(decision.uri()).isEqualTo(uri("tcp://foo.bar:80"));
        assertThat(decision.handler()).isNull();
    }

    @Test
    void theFirstMatchingRewriteIsTheOnlyOne() {
        SocketMapper mapper = mapper("""
                {"vm": "web1", "default": "allow", "rewrite": [
                  {"match": "tcp://a:(\\\\d+)", "to": "tcp://b:$1"},
                  {"match": "tcp://.*", "to": "tcp://never:1"},
                  {"match": "tcp://b:.*", "to": "tcp://c:1"}]}
                """);

        assertThat(mapper.map("web1", uri("tcp://a:22")).uri()).isEqualTo(uri("tcp://b:22"));
    }

    @Test
    void deniesAndLogsByRuleByDefaultAndWithoutPolicy() {
        SocketMapper mapper = mapper("""
                {"vm": "web1", "acl": [{"allow": "tcp://10\\\\.0\\\\.0\\\\.\\\\d+:80"}, {"deny": "udp://.*"}]}
                """);

        Decision byRule = mapper.map("web1", uri("udp://10.0.0.1:53"));
        assertThat(byRule.reason()).isEqualTo(new Reason(Reason.Kind.ACL_RULE, "acl[1]", 1, "udp://.*"));
        assertThat(byRule.handler()).isNull();

        Decision byDefault = mapper.map("web1", uri("tcp://10.0.0.1:443"));
        assertThat(byDefault.outcome()).isEqualTo(Outcome.DENIED);
        assertThat(byDefault.reason()).isEqualTo(Reason.DEFAULT);

        Decision unknownVm = mapper.map("web9", uri("tcp://10.0.0.1:80"));
        assertThat(unknownVm.outcome()).isEqualTo(Outcome.DENIED);
        assertThat(unknownVm.reason()).isEqualTo(Reason.NO_POLICY);

        assertThat(logged.list).extracting(ILoggingEvent::getLevel).containsOnly(Level.INFO);
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "denied vm=web1 uri=udp://10.0.0.1:53 by acl[1] udp://.*",
                "denied vm=web1 uri=tcp://10.0.0.1:443 by default",
                "denied vm=web9 uri=tcp://10.0.0.1:80 by no_policy");
    }

    @Test
    void aRewriteToAnInvalidUriDeniesAndIsCounted() {
        SocketMapper mapper = mapper("""
                {"vm": "web1", "default": "allow",
                 "rewrite": [{"match": "tcp://(.*):(\\\\d+)", "to": "tcp://$1:9$2"}, {"match": "udp://(.*)", "to": "tcp://$1"}]}
                """);

        assertThat(mapper.map("web1", uri("tcp://h:80")).uri()).isEqualTo(uri("tcp://h:980"));
        Decision badPort = mapper.map("web1", uri("tcp://h:8080"));
        Decision otherFamily = mapper.map("web1", uri("udp://h:53"));

        assertThat(badPort.outcome()).isEqualTo(Outcome.DENIED);
        assertThat(badPort.uri()).isEqualTo(uri("tcp://h:8080"));
        assertThat(badPort.reason()).isEqualTo(new Reason(Reason.Kind.REWRITE_INVALID, "rewrite[0]", 0, "tcp://(.*):(\\d+)"));
        assertThat(otherFamily.reason().kind()).isEqualTo(Reason.Kind.REWRITE_INVALID);
        assertThat(mapper.counters().snapshot())
                .containsEntry("denied.rewrite_invalid", 2L)
                .containsEntry("allowed", 1L)
                .containsEntry("rewritten", 1L);
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "denied vm=web1 uri=tcp://h:8080 by rewrite_invalid rewrite[0] tcp://(.*):(\\d+): it gave 'tcp://h:98080': "
                        + "invalid socket URI 'tcp://h:98080': port 98080 is out of range 1-65535",
                "denied vm=web1 uri=udp://h:53 by rewrite_invalid rewrite[1] udp://(.*): it gave 'tcp://h:53': "
                        + "a udp destination cannot become a tcp one: the guest's socket stays the kind it opened");
    }

    @Test
    void port80GoesToTheHttpProxyUnlessThePolicySaysOtherwise() {
        SocketMapper mapper = mapper(
                "{\"vm\": \"proxied\", \"default\": \"allow\"}",
                "{\"vm\": \"direct\", \"default\": \"allow\", \"http_proxy_port80\": false}",
                "{\"vm\": \"nohttp\", \"default\": \"allow\", \"handlers\": [\"tcp\"]}");

        assertThat(mapper.map("proxied", uri("tcp://h:80")).handler()).isEqualTo(HandlerKind.HTTP);
        assertThat(mapper.map("proxied", uri("tcp://h:8080")).handler()).isEqualTo(HandlerKind.TCP);
        assertThat(mapper.map("proxied", uri("http://h:8080/x")).handler()).isEqualTo(HandlerKind.HTTP);
        assertThat(mapper.map("direct", uri("tcp://h:80")).handler()).isEqualTo(HandlerKind.TCP);
        assertThat(mapper.map("nohttp", uri("tcp://h:80")).handler()).isEqualTo(HandlerKind.TCP);
        assertThat(mapper.map("proxied", uri("tcp://h:80")).uri()).isEqualTo(uri("tcp://h:80"));
    }

    @Test
    void aHandlerThePolicyDoesNotEnableDenies() {
        SocketMapper mapper = mapper("{\"vm\": \"web1\", \"default\": \"allow\", \"handlers\": [\"tcp\"]}");

        Decision decision = mapper.map("web1", uri("udp://h:53"));

        assertThat(decision.outcome()).isEqualTo(Outcome.DENIED);
        assertThat(decision.reason()).isEqualTo(Reason.HANDLER_DISABLED);
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                .containsExactly("denied vm=web1 uri=udp://h:53 by handler_disabled: the udp handler is not enabled");
    }

    @Test
    void countsEveryDecision() {
        SocketMapper mapper = mapper("""
                {"vm": "web1", "acl": [{"allow": "tcp://.*"}, {"allow": "dns://.*"}, {"allow": "http://.*"}]}
                """, "{\"vm\": \"db1\", \"default\": \"allow\"}");

        mapper.map("web1", uri("tcp://h:22"));
        mapper.map("web1", uri("tcp://h:80"));
        mapper.map("web1", uri("dns://h"));
        mapper.map("web1", uri("http://h/"));
        mapper.map("web1", uri("udp://h:53"));
        mapper.map("db1", uri("udp://h:53"));
        mapper.map("nobody", uri("udp://h:53"));

        assertThat(mapper.counters().snapshot()).containsAllEntriesOf(Map.ofEntries(
                Map.entry("allowed", 5L),
                Map.entry("denied", 2L),
                Map.entry("denied.default", 1L),
                Map.entry("denied.no_policy", 1L),
                Map.entry("denied.acl_rule", 0L),
                Map.entry("handler.tcp", 1L),
                Map.entry("handler.http", 2L),
                Map.entry("handler.dns", 1L),
                Map.entry("handler.udp", 1L),
                Map.entry("vm.web1.allowed", 4L),
                Map.entry("vm.web1.denied", 1L),
                Map.entry("vm.db1.allowed", 1L),
                Map.entry("vm.db1.denied", 0L),
                Map.entry("vm.nobody.denied", 1L)));
    }

    @Test
    void readsTheCurrentPoliciesOnEveryCommand() {
        VmPolicies policies = new VmPolicies();
        SocketMapper mapper = new SocketMapper(policies);
        assertThat(mapper.map("web1", uri("tcp://h:22")).reason()).isEqualTo(Reason.NO_POLICY);

        policies.replace(List.of(VmPolicy.parse("{\"vm\": \"web1\", \"default\": \"allow\"}", "test")));

        assertThat(mapper.map("web1", uri("tcp://h:22")).allowed()).isTrue();
    }
}
