package dev.vnet.registry.server;

import dev.vnet.registry.HostAssignments;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryException;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.TokenGrant;
import dev.vnet.registry.Vm;
import dev.vnet.registry.client.RegistryClient;
import dev.vnet.registry.pki.CertificateAuthority;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The real transports on loopback: mutual TLS over 127.0.0.1 and the admin Unix socket. */
class RegistryServerTest {
    private static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress("127.0.0.1", 0);

    @TempDir
    Path directory;
    private CertificateAuthority ca;
    private TlsFiles serverFiles;
    private Path socket;
    private RegistryServer server;
    private final List<RegistryClient> clients = new ArrayList<>();
    private final List<ConfigStore> stores = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        serverFiles = ca.issue("registry", List.of(InetAddress.getByName("127.0.0.1")), directory.resolve("certs"));
        socket = directory.resolve("registry.sock");
        server = RegistryServer.start(newRegistry(), ANY_LOOPBACK_PORT, serverFiles, socket);
    }

    @AfterEach
    void tearDown() {
        clients.forEach(RegistryClient::close);
        server.close();
        stores.forEach(ConfigStore::close);
    }

    private RegistryService newRegistry() {
        ConfigStore store = new InMemoryConfigStore();
        stores.add(store);
        return new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults());
    }

    private String target() {
        return "127.0.0.1:" + server.tcpAddress().orElseThrow().getPort();
    }

    private RegistryClient tlsClient(String identity) throws IOException {
        RegistryClient client = RegistryClient.connect(target(), ca.issue(identity, List.of(), directory.resolve("certs"))).withDeadline(Duration.ofSeconds(5));
        clients.add(client);
        return client;
    }

    private RegistryClient unixClient() {
        RegistryClient client = RegistryClient.connectUnixSocket(socket);
        clients.add(client);
        return client;
    }

    private Vm[] populateOverTheUnixSocket() {
        RegistryClient admin = unixClient();
        admin.createNetwork("blue", 0, "10.0.0.0/24");
        admin.registerHost("h1", "10.255.0.1");
        admin.registerHost("h2", "10.255.0.2");
        return new Vm[]{admin.createVm("blue1", "blue", "h1", null), admin.createVm("blue2", "blue", "h2", null)};
    }

    @Test
    void theUnixSocketIsOwnerOnlyAndItsCallersAreTheAdministrator() throws IOException {
        assertThat(server.unixSocket()).contains(socket);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
        try (var siblings = Files.list(directory)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("ca", "certs", "registry.sock");
        }
        populateOverTheUnixSocket();
        assertThat(unixClient().listVms()).hasSize(2);
        assertThatThrownBy(() -> unixClient().getHostAssignments()).isInstanceOfSatisfying(RegistryException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void aHostCertificateGetsOnlyItsOwnVmsAndTokensOnlyForThem() throws Exception {
        Vm[] vms = populateOverTheUnixSocket();
        RegistryClient h1 = tlsClient("h1");

        HostAssignments assignments = h1.getHostAssignments();
        assertThat(assignments.host()).isEqualTo("h1");
        assertThat(assignments.vms()).extracting(a -> a.vm().name()).containsExactly("blue1");
        assertThat(assignments.vms().getFirst().key()).hasSize(32);

        TokenGrant grant = h1.requestToken("blue1", vms[1].address()).get();
        assertThat(grant.destinationPort()).isEqualTo(vms[1].port());
        assertThatThrownBy(() -> h1.requestToken("blue2", vms[0].address()).join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.description()).isEqualTo("vm blue2 does not run on host h1");
                });
        assertThatThrownBy(() -> h1.createNetwork("red", 0, "10.0.0.0/24")).isInstanceOfSatisfying(RegistryException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));

        RegistryClient adminOverTls = tlsClient(RegistryService.ADMIN_IDENTITY);
        assertThat(adminOverTls.listVms()).hasSize(2);
    }

    @Test
    void aGatewayCertificateGetsItsNetworksKeyAndIngressTokensForItsNetworkOnly() throws Exception {
        Vm[] vms = populateOverTheUnixSocket();
        RegistryClient admin = unixClient();
        admin.createNetwork("red", 0, "10.1.0.0/24");
        admin.setGateway("blue", "gw", "10.255.1.1", 47000);
        RegistryClient gw = tlsClient("gw");

        HostAssignments assignments = gw.getHostAssignments();
        assertThat(assignments.vms()).isEmpty();
        assertThat(assignments.gateways()).singleElement().satisfies(g -> assertThat(g.gateway().network()).isEqualTo("blue"));
        int outside = Ipv4Address.parse("198.51.100.7");
        TokenGrant grant = gw.requestIngressToken("blue", outside, vms[1].address()).get();
        assertThat(grant.kind()).isEqualTo(TokenGrant.Kind.VM);
        assertThat(grant.destinationHost()).isEqualTo(Ipv4Address.parse("10.255.0.2"));
        assertThat(grant.destinationPort()).isEqualTo(vms[1].port());
        assertThatThrownBy(() -> gw.requestIngressToken("red", outside, vms[1].address()).join()).cause()
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.description()).isEqualTo("gw is not a gateway of network red");
                });
        assertThatThrownBy(() -> tlsClient("h1").requestIngressToken("blue", outside, vms[1].address()).join()).cause()
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    @Test
    void aClientCertificateFromAnotherCaIsRejected() throws Exception {
        populateOverTheUnixSocket();
        CertificateAuthority stranger = CertificateAuthority.create(directory.resolve("stranger"), "vnet-ca");
        TlsFiles forged = stranger.issue("h1", List.of(), directory.resolve("stranger-certs"));
        TlsFiles trustingOurCa = new TlsFiles(serverFiles.caCertificate(), forged.certificate(), forged.privateKey());
        try (RegistryClient client = RegistryClient.connect(target(), trustingOurCa)) {
            assertThatThrownBy(() -> client.withDeadline(Duration.ofSeconds(5)).getHostAssignments())
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
        }
    }

    @Test
    void aClientRefusesAServerWhoseCertificateDoesNotNameTheDialledAddress() throws Exception {
        TlsFiles wrongName = ca.issue("elsewhere", List.of(InetAddress.getByName("127.0.0.2")), directory.resolve("other"));
        try (RegistryServer other = RegistryServer.start(newRegistry(),
                ANY_LOOPBACK_PORT, wrongName, null);
             RegistryClient client = RegistryClient.connect("127.0.0.1:" + other.tcpAddress().orElseThrow().getPort(),
                     ca.issue("admin", List.of(), directory.resolve("certs")))) {
            assertThatThrownBy(() -> client.withDeadline(Duration.ofSeconds(5)).listVms())
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
        }
    }

    /** A service of one method answering with the caller's identity. */
    private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<String, String> WHO_AM_I = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Identity/WhoAmI")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();
    private static final BindableService IDENTITY_SERVICE = () -> ServerServiceDefinition.builder("test.Identity")
            .addMethod(WHO_AM_I, ServerCalls.asyncUnaryCall((request, response) -> {
                response.onNext(CallerIdentity.current());
                response.onCompleted();
            }))
            .build();

    @Test
    void extraServicesAreServedOnTheTcpListenerWithTheCertificatesIdentity() throws Exception {
        server.close();
        server = RegistryServer.start(newRegistry(), ANY_LOOPBACK_PORT, serverFiles, socket, List.of(IDENTITY_SERVICE));
        TlsFiles host = ca.issue("host7", List.of(), directory.resolve("certs"));
        ManagedChannel channel = NettyChannelBuilder.forTarget(target(), TlsChannelCredentials.newBuilder()
                .keyManager(host.certificate().toFile(), host.privateKey().toFile()).trustManager(host.caCertificate().toFile()).build()).build();
        try {
            assertThat(ClientCalls.blockingUnaryCall(channel, WHO_AM_I, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), ""))
                    .isEqualTo("host7");
        } finally {
            channel.shutdownNow();
        }
        assertThat(tlsClient("admin").listVms()).isEmpty();
        assertThatThrownBy(() -> RegistryServer.start(newRegistry(), null, null, directory.resolve("other.sock"), List.of(IDENTITY_SERVICE)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TCP");
    }

    @Test
    void closingDeletesTheSocketAndAStaleSocketIsReplacedButALiveOneIsNot() throws Exception {
        server.close();
        assertThat(socket).doesNotExist();

        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        server = RegistryServer.start(newRegistry(), null, null, socket);
        populateOverTheUnixSocket();

        assertThatThrownBy(() -> RegistryServer.start(newRegistry(), null, null, socket))
                .isInstanceOf(IOException.class).hasMessageContaining("another process is listening on");
        assertThat(unixClient().listVms()).hasSize(2);

        Path regular = directory.resolve("not-a-socket");
        Files.writeString(regular, "x");
        assertThatThrownBy(() -> RegistryServer.start(newRegistry(), null, null, regular))
                .isInstanceOf(IOException.class).hasMessageContaining("is not a socket");
    }

    @Test
    void theProcessServesUntilClosedAndThenClosesTheStore() throws Exception {
        server.close();
        ConfigStore store = new InMemoryConfigStore();
        RegistryProcess.Options options = RegistryProcess.Options.of(store, socket).withTcp(ANY_LOOPBACK_PORT, serverFiles)
                .withConfig(RegistryConfig.defaults().withTokenTtl(RegistryConfig.TOKENS_NEVER_EXPIRE).withPortRange(50000, 50099));
        RegistryProcess process = RegistryProcess.start(options);
        server = process.server();
        Vm[] vms = populateOverTheUnixSocket();
        assertThat(vms[0].port()).isEqualTo(50000);
        assertThat(tlsClient("h1").requestToken("blue1", vms[1].address()).get().expiry()).isEqualTo(0xFFFF_FFFFL);
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                process.awaitStop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        process.close();
        waiter.join(5000);
        assertThat(waiter.isAlive()).isFalse();
        assertThatThrownBy(store::revision).as("the store is closed").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(socket).doesNotExist();
        process.close();

        assertThatThrownBy(() -> RegistryProcess.Options.of(store, null)).hasMessageContaining("Unix socket");
        assertThatThrownBy(() -> RegistryProcess.Options.of(store, socket).withTcp(ANY_LOOPBACK_PORT, null)).hasMessageContaining("TLS files");
    }
}
