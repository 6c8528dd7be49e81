package dev.vnet.cli;

import dev.vnet.controller.ClusterNode;
import dev.vnet.controller.ControllerProcess;
import dev.vnet.lab.Lab;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.EmbeddedConfigStore;
import dev.vnet.store.EtcdConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "controller", mixinStandardHelpOptions = true,
        description = {"Runs the controller: the resource graph (projects, hosts, networks,",
                "subnets, ports, VMs) and the VM registry in one config store; the REST",
                "API (its OpenAPI document at /openapi.json); and, for agents over mutual",
                "TLS, registry tokens and the channel that pushes each host its VMs and",
                "routes. The store is a directory (embedded, survives kill -9), 'memory',",
                "or an etcd cluster: etcd://HOST:PORT[,HOST:PORT...]."})
final class ControllerCommand implements Callable<Integer> {
    @Option(names = "--store", required = true, description = "DIR, 'memory', or etcd://HOST:PORT[,HOST:PORT...].")
    String store;

    @Option(names = "--listen", description = "IP:PORT for agents (mutual TLS): registry tokens and the agent channel.")
    String listen;

    @Option(names = "--tls-dir", description = "Directory with ca.crt, controller.crt and controller.key.")
    Path tlsDirectory;

    @Option(names = "--api", description = "IP:PORT for the REST API (plain HTTP: bind it to a trusted address).")
    String api;

    @Option(names = "--api-socket", description = "Unix socket for the REST API (mode 0600).")
    Path apiSocket;

    @Option(names = "--admin-socket", description = "Unix socket for the registry's admin gRPC API (mode 0600).")
    Path adminSocket;

    @Option(names = "--node-id", description = "Run as one node of a cluster sharing the store (etcd): this node's id, "
            + "unique among the live nodes. Needs --listen and --api.")
    String nodeId;

    @Option(names = "--advertise", paramLabel = "IP", description = "The address the other nodes and agents reach this node at "
            + "(default: the --listen address).")
    String advertise;

    @Option(names = "--bgp", paramLabel = "IP:PORT", description = "With --node-id: speak BGP L3VPN here; the node "
            + "originates its hosts' VM routes and gives its agents the routes it learns.")
    String bgp;

    @Option(names = "--bgp-peer", paramLabel = "IP:PORT[@AS]", description = "A BGP peer: another node (same AS) or any "
            + "speaker (GoBGP, a router). Repeat for each.")
    java.util.List<String> bgpPeers = new java.util.ArrayList<>();

    @Option(names = "--asn", defaultValue = "64512", description = "The cluster's AS (2 octets; default ${DEFAULT-VALUE}).")
    int asn;

    @Mixin
    TokenOptions tokens;

    @Override
    public Integer call() throws Exception {
        if (listen != null && tlsDirectory == null) {
            throw new IllegalArgumentException("--listen needs --tls-dir (agents connect with mutual TLS)");
        }
        if (api == null && apiSocket == null) {
            throw new IllegalArgumentException("vnet controller needs --api and/or --api-socket");
        }
        TlsFiles tls = tlsDirectory == null ? null : new TlsFiles(tlsDirectory.resolve("ca.crt"),
                tlsDirectory.resolve(Lab.CONTROLLER_CERTIFICATE + ".crt"), tlsDirectory.resolve(Lab.CONTROLLER_CERTIFICATE + ".key"));
        RegistryConfig config = tokens.config();
        ControllerProcess.Options options = new ControllerProcess.Options(listen == null ? null : TokenOptions.address("--listen", listen), tls,
                adminSocket, api == null ? null : TokenOptions.address("--api", api), apiSocket, config, open(store));
        if (nodeId == null) {
            ControllerProcess.run(options);
            return 0;
        }
        if (listen == null || api == null) {
            options.store().close();
            throw new IllegalArgumentException("a cluster node (--node-id) needs --listen (its agents) and --api (the other nodes forward to it)");
        }
        String host = advertise != null ? advertise : options.agents().getHostString();
        dev.vnet.controller.cluster.BgpRoutes.Config routing = null;
        if (bgp != null) {
            java.util.List<dev.vnet.bgp.PeerConfig> peers = new java.util.ArrayList<>();
            for (String peer : bgpPeers) {
                int at = peer.indexOf('@');
                long peerAs = at < 0 ? asn : Long.parseLong(peer.substring(at + 1));
                peers.add(dev.vnet.bgp.PeerConfig.of(TokenOptions.address("--bgp-peer", at < 0 ? peer : peer.substring(0, at)), peerAs));
            }
            routing = new dev.vnet.controller.cluster.BgpRoutes.Config(asn, TokenOptions.address("--bgp", bgp), peers);
        }
        ClusterNode node = ClusterNode.start(options, new ClusterNode.Identity(nodeId, host + ":" + options.agents().getPort(),
                "http://" + host + ":" + options.api().getPort(), routing));
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "controller-node-shutdown"));
        stopped.await();
        return 0;
    }

    static ConfigStore open(String store) {
        if (store.equals("memory")) {
            return new InMemoryConfigStore();
        }
        if (store.startsWith("etcd://")) {
            List<String> endpoints = List.of(store.substring("etcd://".length()).split(",")).stream().map(e -> "http://" + e).toList();
            return EtcdConfigStore.connect(endpoints);
        }
        return EmbeddedConfigStore.open(Path.of(store));
    }
}
