package dev.vnet.controller.channel;

import dev.vnet.controller.channel.proto.ControllerMessage;
import dev.vnet.controller.channel.proto.StateUpdate;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static dev.vnet.controller.channel.ChannelFixture.address;
import static dev.vnet.controller.channel.ChannelFixture.vm;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The publisher against a stream whose readiness the test controls: back-pressure, coalescing, versions. */
class HostStatePublisherTest {
    private static final Duration NO_WAIT = Duration.ZERO;

    private final InMemoryDesiredState source = new InMemoryDesiredState();
    private final HostStatePublisher publisher = new HostStatePublisher(source, 10);
    private final FakeStream stream = new FakeStream();
    private final AgentSession session = new AgentSession("h1", "test", stream);

    @BeforeEach
    void setUp() {
        source.putHost("h1", address("10.255.0.1"));
        source.putHost("h2", address("10.255.0.2"));
        source.putVm("h1", vm("a1", 1, "10.1.0.11", 47901));
        publisher.attach(session, 0);
        publisher.acknowledge(session, 10);
    }

    private SyncStatus appliedNow(long version) throws InterruptedException {
        return publisher.awaitApplied(version, Set.of("h1"), NO_WAIT);
    }

    @Test
    void theSnapshotIsTheHostsWholeStateAtTheCurrentVersion() throws InterruptedException {
        StateUpdate snapshot = stream.sent.getFirst();
        assertThat(snapshot.getFull()).isTrue();
        assertThat(snapshot.getVersion()).isEqualTo(10);
        assertThat(snapshot.getUpsertedAttachmentsCount()).isEqualTo(1);
        assertThat(snapshot.getUpsertedRoutesCount()).isEqualTo(1);
        assertThat(appliedNow(10).complete()).isTrue();
    }

    @Test
    void changesForAStreamThatIsNotReadyAreHeldBackAndSentAsOneDeltaWhenItIs() throws InterruptedException {
        stream.ready = false;
        publisher.publish(11, source.putVm("h2", vm("a2", 1, "10.1.0.12", 47901)));
        publisher.publish(12, source.putVm("h1", vm("a3", 1, "10.1.0.13", 47902)));
        assertThat(stream.sent).hasSize(1);
        assertThat(appliedNow(12)).isEqualTo(new SyncStatus(false, List.of("h1")));
        assertThat(publisher.hostsChangedSince(10)).containsExactly("h1", "h2");

        stream.ready = true;
        publisher.ready(session);
        assertThat(stream.sent).hasSize(2);
        StateUpdate delta = stream.sent.getLast();
        assertThat(delta.getFull()).isFalse();
        assertThat(delta.getVersion()).isEqualTo(12);
        assertThat(delta.getUpsertedAttachmentsList()).extracting(a -> a.getVmId()).containsExactly("a3");
        assertThat(delta.getUpsertedRoutesList()).extracting(r -> r.getVmId()).containsExactlyInAnyOrder("a2", "a3");

        publisher.acknowledge(session, 12);
        assertThat(appliedNow(12).complete()).isTrue();
        assertThat(appliedNow(11).complete()).isTrue();
    }

    @Test
    void aChangeOfAVmsAdditionalAddressesIsADeltaUpsertingItsAttachmentOnly() throws InterruptedException {
        int vip = address("203.0.113.10");
        publisher.publish(11, source.putVm("h1", vm("a1", 1, "10.1.0.11", 47901).withAdditionalAddresses(List.of(vip))));
        StateUpdate delta = stream.sent.getLast();
        assertThat(delta.getFull()).isFalse();
        assertThat(delta.getVersion()).isEqualTo(11);
        assertThat(delta.getUpsertedAttachmentsList()).singleElement().satisfies(a -> {
            assertThat(a.getVmId()).isEqualTo("a1");
            assertThat(a.getAdditionalAddressesList()).containsExactly(vip);
        });
        assertThat(delta.getRemovedAttachmentVmIdsList()).isEmpty();
        assertThat(delta.getUpsertedRoutesCount()).isZero();
        assertThat(delta.getRemovedRoutesCount()).isZero();
        assertThat(appliedNow(11).complete()).isFalse();

        publisher.publish(12, source.putVm("h1", vm("a1", 1, "10.1.0.11", 47901)));
        assertThat(stream.sent.getLast().getUpsertedAttachmentsList()).singleElement()
                .satisfies(a -> assertThat(a.getAdditionalAddressesList()).isEmpty());
    }

    @Test
    void heldBackChangesThatCancelOutStillSendTheVersionSoTheAgentCanAcknowledgeIt() throws InterruptedException {
        stream.ready = false;
        publisher.publish(11, source.putVm("h2", vm("a2", 1, "10.1.0.12", 47901)));
        publisher.publish(12, source.removeVm("a2"));
        stream.ready = true;
        publisher.ready(session);

        StateUpdate delta = stream.sent.getLast();
        assertThat(delta.getVersion()).isEqualTo(12);
        assertThat(delta.getUpsertedRoutesCount() + delta.getRemovedRoutesCount() + delta.getUpsertedAttachmentsCount()
                + delta.getRemovedAttachmentVmIdsCount()).isZero();
        publisher.acknowledge(session, 12);
        assertThat(appliedNow(12).complete()).isTrue();
    }

    @Test
    void aPublishThatChangesNothingForAHostSendsNothingAndOwesNoAcknowledgement() throws InterruptedException {
        publisher.publish(11, Set.of("h1"));
        assertThat(stream.sent).hasSize(1);
        assertThat(appliedNow(11).complete()).isTrue();
        assertThat(publisher.hostsChangedSince(10)).isEmpty();
    }

    @Test
    void aHostThatAppliedAVersionHasAppliedEveryEarlierOne() throws InterruptedException {
        publisher.publish(11, source.putVm("h1", vm("a2", 1, "10.1.0.12", 47902)));
        publisher.publish(12, source.putVm("h1", vm("a3", 1, "10.1.0.13", 47903)));
        assertThat(appliedNow(11).complete()).isFalse();
        publisher.acknowledge(session, 12);
        assertThat(appliedNow(11).complete()).isTrue();
        assertThat(publisher.appliedVersions()).containsEntry("h1", 12L);
    }

    @Test
    void anAcknowledgementOfAVersionNeverSentEndsTheStream() throws InterruptedException {
        publisher.acknowledge(session, 99);
        assertThat(stream.endedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(publisher.connectedHosts()).isEmpty();
        assertThat(appliedNow(10).complete()).isTrue();
    }

    @Test
    void versionsMayNotGoBack() {
        publisher.publish(11, Set.of());
        assertThatThrownBy(() -> publisher.publish(9, Set.of("h1"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRestartedAgentOwesTheWholeStateAgainAndAForgottenHostIsNotWaitedFor() throws InterruptedException {
        FakeStream again = new FakeStream();
        publisher.attach(new AgentSession("h1", "test", again), 0);
        assertThat(stream.endedWith.getCode()).isEqualTo(Status.Code.ABORTED);
        assertThat(appliedNow(10)).isEqualTo(new SyncStatus(false, List.of("h1")));
        publisher.forgetHost("h1");
        assertThat(again.endedWith.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(publisher.awaitApplied(10, NO_WAIT).complete()).isTrue();
    }

    /** Records what is sent; its readiness is set by the test. */
    static final class FakeStream extends ServerCallStreamObserver<ControllerMessage> {
        final List<StateUpdate> sent = new ArrayList<>();
        boolean ready = true;
        Status endedWith;

        @Override
        public void onNext(ControllerMessage message) {
            assertThat(endedWith).as("sent after the stream ended").isNull();
            sent.add(message.getUpdate());
        }

        @Override
        public void onError(Throwable error) {
            endedWith = Status.fromThrowable(error);
        }

        @Override
        public void onCompleted() {
            endedWith = Status.OK;
        }

        @Override
        public boolean isReady() {
            return ready;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
        }

        @Override
        public void setOnReadyHandler(Runnable handler) {
        }

        @Override
        public void setCompression(String compression) {
        }

        @Override
        public void disableAutoInboundFlowControl() {
        }

        @Override
        public void request(int count) {
        }

        @Override
        public void setMessageCompression(boolean enable) {
        }
    }
}
