package dev.vnet.controller.channel;

import dev.vnet.controller.channel.ChannelFixture.RecordingAgent;
import dev.vnet.controller.channel.client.HostStateChange;
import dev.vnet.controller.channel.proto.AgentChannelGrpc;
import dev.vnet.controller.channel.proto.AgentMessage;
import dev.vnet.controller.channel.proto.ControllerMessage;
import dev.vnet.controller.channel.proto.Hello;
import dev.vnet.registry.pki.TlsFiles;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.vnet.controller.channel.ChannelFixture.address;
import static dev.vnet.controller.channel.ChannelFixture.await;
import static dev.vnet.controller.channel.ChannelFixture.vm;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The channel end to end over mutual TLS on loopback. Topology: network 1 has a1 on h1 and a2 on h2;
 * network 2 has b3 on h3. The controller starts at version 10.
 */
class AgentChannelTest {
    private static final long START = 10;
    private static final Set<String> ALL_HOSTS = Set.of("h1", "h2", "h3");

    @TempDir
    Path directory;
    private ChannelFixture fixture;
    private InMemoryDesiredState source;
    private final VmAttachment a1 = vm("a1", 1, "10.1.0.11", 47901);
    private final VmAttachment a2 = vm("a2", 1, "10.1.0.12", 47901);
    private final VmAttachment a3 = vm("a3", 1, "10.1.0.13", 47902);
    private final VmAttachment b3 = vm("b3", 2, "10.2.0.13", 47902);
    private final VmAttachment b4 = vm("b4", 2, "10.2.0.14", 47903);

    @BeforeEach
    void setUp() throws IOException {
        fixture = new ChannelFixture(directory);
        source = fixture.source;
        source.putHost("h1", address("10.255.0.1"));
        source.putHost("h2", address("10.255.0.2"));
        source.putHost("h3", address("10.255.0.3"));
        source.putHost("h4", address("10.255.0.4"));
        source.putVm("h1", a1);
        source.putVm("h2", a2);
        source.putVm("h3", b3);
        fixture.startController(START);
    }

    @AfterEach
    void tearDown() {
        fixture.close();
    }

    private Route route(VmAttachment vm, String host) {
        return source.desired(host).routes().get(vm.routeKey());
    }

    private long publish(long version, Set<String> hosts) {
        fixture.publisher.publish(version, hosts);
        return version;
    }

    private void assertApplied(long version, Set<String> hosts) throws InterruptedException {
        assertThat(fixture.publisher.awaitApplied(version, hosts, ChannelFixture.PATIENCE)).isEqualTo(new SyncStatus(true, List.of()));
    }

    @Test
    void helloForAnotherHostThanTheCertificatesIsRefused() throws Exception {
        TlsFiles h1 = fixture.tls("h1");
        ManagedChannel channel = NettyChannelBuilder.forTarget(fixture.target(), TlsChannelCredentials.newBuilder()
                .keyManager(h1.certificate().toFile(), h1.privateKey().toFile()).trustManager(h1.caCertificate().toFile()).build()).build();
        try {
            CompletableFuture<Status> end = new CompletableFuture<>();
            StreamObserver<AgentMessage> requests = AgentChannelGrpc.newStub(channel).connect(new StreamObserver<>() {
                @Override
                public void onNext(ControllerMessage message) {
                    end.completeExceptionally(new AssertionError("the controller sent state to an impostor: " + message));
                }

                @Override
                public void onError(Throwable error) {
                    end.complete(Status.fromThrowable(error));
                }

                @Override
                public void onCompleted() {
                    end.complete(Status.OK);
                }
            });
            requests.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setHost("h2").setAgentVersion("test")).build());
            Status status = end.get(ChannelFixture.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(status.getDescription()).contains("h1").contains("h2");
            assertThat(fixture.publisher.connectedHosts()).isEmpty();
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void theFullSnapshotHoldsOnlyTheHostsOwnVmsAndTheRoutesOfItsNetworks() throws Exception {
        RecordingAgent h1 = fixture.agent("h1");
        HostStateChange snapshot = h1.next();

        assertThat(snapshot.full()).isTrue();
        assertThat(snapshot.version()).isEqualTo(START);
        assertThat(snapshot.previous().isEmpty()).isTrue();
        assertThat(snapshot.current()).isEqualTo(source.desired("h1"));
        assertThat(snapshot.current().attachmentsByVmId()).containsOnlyKeys("a1");
        assertThat(snapshot.current().attachmentsByVmId().get("a1").key()).isEqualTo(a1.key());
        assertThat(snapshot.current().routes()).containsOnlyKeys(a1.routeKey(), a2.routeKey());
        assertThat(snapshot.current().routes().get(a2.routeKey())).isEqualTo(
                new Route(1, a2.address(), a2.mac(), "h2", address("10.255.0.2"), 47901, "a2", Route.VNP));
        assertThat(snapshot.diff().attachments().added()).containsExactly(a1);
        assertThat(snapshot.diff().routes().added()).containsExactlyInAnyOrder(route(a1, "h1"), route(a2, "h1"));
        assertApplied(START, Set.of("h1"));
        assertThat(fixture.publisher.appliedVersions()).containsEntry("h1", START);
        assertThat(h1.client.appliedVersion()).isEqualTo(START);
    }

    @Test
    void anAddedVmReachesItsHostAndTheHostsSharingItsNetworkAndNoOtherHost() throws Exception {
        RecordingAgent h1 = fixture.agent("h1");
        RecordingAgent h2 = fixture.agent("h2");
        RecordingAgent h3 = fixture.agent("h3");
        List.of(h1, h2, h3).forEach(RecordingAgent::next);

        Set<String> affected = source.putVm("h2", a3);
        assertThat(affected).containsExactlyInAnyOrder("h1", "h2");
        // Naming every host: the publisher itself finds that h3 has nothing to change.
        publish(11, ALL_HOSTS);

        HostStateChange atH1 = h1.next();
        assertThat(atH1.full()).isFalse();
        assertThat(atH1.version()).isEqualTo(11);
        assertThat(atH1.diff().attachments().isEmpty()).isTrue();
        assertThat(atH1.diff().routes().added()).containsExactly(route(a3, "h1"));
        assertThat(atH1.diff().routes().size()).isEqualTo(1);
        HostStateChange atH2 = h2.next();
        assertThat(atH2.diff().attachments().added()).containsExactly(a3);
        assertThat(atH2.diff().attachments().size()).isEqualTo(1);
        assertThat(atH2.diff().routes().added()).containsExactly(route(a3, "h2"));
        assertThat(atH2.diff().routes().size()).isEqualTo(1);
        assertThat(atH2.current()).isEqualTo(source.desired("h2"));
        assertApplied(11, ALL_HOSTS);

        // h3's next update is the next change of its own network: nothing came at version 11.
        publish(12, source.putVm("h3", b4));
        HostStateChange atH3 = h3.next();
        assertThat(atH3.version()).isEqualTo(12);
        assertThat(atH3.diff().attachments().added()).containsExactly(b4);
        assertThat(atH3.current().routes()).containsOnlyKeys(b3.routeKey(), b4.routeKey());
    }

    @Test
    void aRemovedVmLeavesEveryHostOfItsNetworkAndAHostWithoutVmsThereLosesTheNetwork() throws Exception {
        RecordingAgent h1 = fixture.agent("h1");
        RecordingAgent h2 = fixture.agent("h2");
        List.of(h1, h2).forEach(RecordingAgent::next);
        Route routeOfA1 = route(a1, "h1");
        Route routeOfA2 = route(a2, "h1");

        Set<String> affected = source.removeVm("a2");
        assertThat(affected).containsExactlyInAnyOrder("h1", "h2");
        publish(11, affected);

        HostStateChange atH1 = h1.next();
        assertThat(atH1.diff().routes().removed()).containsExactly(routeOfA2);
        assertThat(atH1.diff().routes().size()).isEqualTo(1);
        assertThat(atH1.current().routes()).containsOnlyKeys(a1.routeKey());
        HostStateChange atH2 = h2.next();
        assertThat(atH2.diff().attachments().removed()).containsExactly(a2);
        assertThat(atH2.diff().routes().removed()).containsExactlyInAnyOrder(routeOfA1, routeOfA2);
        assertThat(atH2.current().isEmpty()).isTrue();
        assertApplied(11, affected);
    }

    @Test
    void awaitAppliedWaitsForEveryAffectedHostAndNamesThoseThatHaveNotApplied() throws Exception {
        RecordingAgent h1 = fixture.agent("h1");
        RecordingAgent h2 = fixture.agent("h2");
        List.of(h1, h2).forEach(RecordingAgent::next);
        CountDownLatch release = new CountDownLatch(1);
        h2.onNextApply = release::await;

        // h4 runs a VM of network 1 but has no agent connected.
        source.putVm("h4", vm("a4", 1, "10.1.0.14", 47901));
        Set<String> affected = source.putVm("h2", a3);
        assertThat(affected).containsExactlyInAnyOrder("h1", "h2", "h4");
        publish(11, affected);

        assertApplied(11, Set.of("h1"));
        assertThat(fixture.publisher.awaitApplied(11, affected, Duration.ofMillis(300)))
                .isEqualTo(new SyncStatus(false, List.of("h2", "h4")));
        assertThat(fixture.publisher.awaitApplied(11, Duration.ofMillis(1))).isEqualTo(new SyncStatus(false, List.of("h2", "h4")));
        assertThat(fixture.publisher.hostsChangedSince(10)).containsExactly("h1", "h2", "h4");
        // Hosts untouched since they applied count as done for any later version.
        assertApplied(11, Set.of("h1"));

        release.countDown();
        assertApplied(11, Set.of("h1", "h2"));
        assertThat(fixture.publisher.awaitApplied(11, Duration.ofMillis(1)).pendingHosts()).containsExactly("h4");

        RecordingAgent h4 = fixture.agent("h4");
        assertThat(h4.next().current().attachmentsByVmId()).containsOnlyKeys("a4");
        assertApplied(11, Set.of("h1", "h2", "h4"));
        // h3's agent never connected to this controller: nothing says it holds even the starting version.
        assertThat(fixture.publisher.awaitApplied(START, Set.of("h3"), Duration.ofMillis(1)).pendingHosts()).containsExactly("h3");
        assertThat(fixture.publisher.connectedHosts()).containsExactly("h1", "h2", "h4");
        assertThat(fixture.publisher.appliedVersions()).containsEntry("h2", 11L).containsEntry("h4", 11L);
    }

    @Test
    void afterAControllerRestartTheAgentResyncsWithAnEmptyDiffAndKeptItsStateWhileItWasDown() throws Exception {
        RecordingAgent h1 = fixture.agent("h1").synced();
        HostState before = h1.next().current();

        fixture.stopController();
        await("the agent to notice the controller is gone", () -> !h1.client.connected());
        assertThat(h1.client.state()).isEqualTo(before);
        assertThat(h1.client.appliedVersion()).isEqualTo(START);

        fixture.startController(START);
        HostStateChange resync = h1.next();
        assertThat(resync.full()).isTrue();
        assertThat(resync.version()).isEqualTo(START);
        assertThat(resync.isEmpty()).isTrue();
        assertThat(resync.previous()).isEqualTo(before);
        assertThat(resync.current()).isEqualTo(before);
        assertApplied(START, Set.of("h1"));
        await("the agent to be connected again", h1.client::connected);
    }

    @Test
    void afterAControllerRestartWithChangedStateTheResyncDiffIsExactlyTheChange() throws Exception {
        RecordingAgent h1 = fixture.agent("h1");
        RecordingAgent h2 = fixture.agent("h2");
        List.of(h1, h2).forEach(RecordingAgent::next);

        fixture.stopController();
        await("the agents to notice the controller is gone", () -> !h1.client.connected() && !h2.client.connected());
        source.putVm("h2", a3);
        source.removeVm("a1");
        fixture.startController(12);

        HostStateChange atH1 = h1.next();
        assertThat(atH1.full()).isTrue();
        assertThat(atH1.version()).isEqualTo(12);
        assertThat(atH1.diff().attachments().removed()).containsExactly(a1);
        assertThat(atH1.diff().attachments().size()).isEqualTo(1);
        // h1 has no VM in network 1 any more: all of its routes go, a3's never came.
        assertThat(atH1.diff().routes().added()).isEmpty();
        assertThat(atH1.diff().routes().changed()).isEmpty();
        assertThat(atH1.diff().routes().removed()).extracting(Route::vmId).containsExactlyInAnyOrder("a1", "a2");
        HostStateChange atH2 = h2.next();
        assertThat(atH2.diff().attachments().added()).containsExactly(a3);
        assertThat(atH2.diff().attachments().size()).isEqualTo(1);
        assertThat(atH2.diff().routes().added()).containsExactly(route(a3, "h2"));
        assertThat(atH2.diff().routes().removed()).extracting(Route::vmId).containsExactly("a1");
        assertThat(atH2.diff().routes().changed()).isEmpty();
        assertApplied(12, Set.of("h1", "h2"));
    }

    @Test
    void aRestartedAgentStartsEmptyAndIsGivenOnlyItsOwnHostsState() throws Exception {
        source.putVm("h1", b4); // h1 is in both networks now
        RecordingAgent first = fixture.agent("h1");
        HostState held = first.next().current();
        first.client.close();

        RecordingAgent restarted = fixture.agent("h1");
        HostStateChange snapshot = restarted.next();
        assertThat(snapshot.full()).isTrue();
        assertThat(snapshot.previous().isEmpty()).isTrue();
        assertThat(snapshot.current()).isEqualTo(held).isEqualTo(source.desired("h1"));
        assertThat(snapshot.current().attachmentsByVmId()).containsOnlyKeys("a1", "b4");
        assertThat(snapshot.current().routes()).containsOnlyKeys(a1.routeKey(), a2.routeKey(), b3.routeKey(), b4.routeKey());
        assertThat(snapshot.diff().attachments().added()).containsExactlyInAnyOrder(a1, b4);
        assertThat(snapshot.diff().routes().added()).hasSize(4);
        assertApplied(START, Set.of("h1"));
    }

    @Test
    void aSecondConnectionForTheSameHostReplacesTheFirst() throws Exception {
        RecordingAgent first = fixture.agent("h1").synced();
        first.next();
        RecordingAgent second = fixture.agent("h1");
        assertThat(second.next().full()).isTrue();
        await("the first stream to be ended", () -> !first.client.connected());
        first.client.close(); // else it would take the host back after its back-off

        publish(11, source.putVm("h2", a3));
        assertThat(second.next().diff().routes().added()).containsExactly(route(a3, "h1"));
        assertApplied(11, Set.of("h1"));
        assertThat(fixture.publisher.connectedHosts()).containsExactly("h1");
    }

    @Test
    void aChangeTheAgentFailsToApplyIsNotAcknowledgedAndComesAgainInTheFullState() throws Exception {
        RecordingAgent h1 = fixture.agent("h1");
        HostState held = h1.next().current();
        h1.onNextApply = () -> {
            throw new IllegalStateException("no TAP for you");
        };

        publish(11, source.putVm("h2", a3));
        HostStateChange retried = h1.next();
        assertThat(h1.failures).isEqualTo(1);
        assertThat(retried.full()).isTrue();
        assertThat(retried.version()).isEqualTo(11);
        assertThat(retried.previous()).isEqualTo(held);
        assertThat(retried.diff().routes().added()).containsExactly(route(a3, "h1"));
        assertThat(retried.diff().routes().size()).isEqualTo(1);
        assertThat(retried.diff().attachments().isEmpty()).isTrue();
        assertApplied(11, Set.of("h1"));
    }
}
