package dev.vnet.cli;

import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.registry.server.RegistryProcess;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.EmbeddedConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "registry", mixinStandardHelpOptions = true,
        description = {"Runs the VM registry: addresses (IPAM), reserved ports and secret keys per VM, and",
                "VNP tokens for agents over mutual TLS (gRPC). State lives in an embedded store that",
                "survives kill -9. A Unix socket serves the admin API to local operators (the lab)."})
final class RegistryCommand implements Callable<Integer> {
    @Option(names = "--listen", description = "TCP address IP:PORT for agents (mutual TLS).")
    String listen;

    @Option(names = "--tls-dir", description = "Directory with ca.crt, registry.crt and registry.key.")
    Path tlsDirectory;

    @Option(names = "--admin-socket", description = "Unix socket for the admin API (mode 0600).")
    Path adminSocket;

    @Option(names = "--store", required = true, description = "Directory of the embedded store, or 'memory'.")
    String store;

    @Option(names = "--ttl", defaultValue = "600", description = "Token lifetime: seconds, an ISO-8601 duration, or 'never' (default ${DEFAULT-VALUE}).")
    String ttl;

    @Option(names = "--skew", defaultValue = "5", description = "Clock skew receivers allow, seconds (default ${DEFAULT-VALUE}).")
    long skewSeconds;

    @Override
    public Integer call() throws Exception {
        if (listen == null && adminSocket == null) {
            throw new IllegalArgumentException("vnet registry needs --listen and/or --admin-socket");
        }
        if (listen != null && tlsDirectory == null) {
            throw new IllegalArgumentException("--listen needs --tls-dir (agents connect with mutual TLS)");
        }
        ConfigStore configStore = store.equals("memory") ? new InMemoryConfigStore() : EmbeddedConfigStore.open(Path.of(store));
        RegistryConfig config = RegistryConfig.defaults()
                .withTokenTtl(RegistryConfig.parseTokenTtl(ttl))
                .withClockSkew(Duration.ofSeconds(skewSeconds));
        RegistryProcess.Options options = RegistryProcess.Options.of(configStore, adminSocket).withConfig(config);
        if (listen != null) {
            int colon = listen.lastIndexOf(':');
            if (colon < 1) {
                throw new IllegalArgumentException("--listen takes IP:PORT, not '" + listen + "'");
            }
            options = options.withTcp(new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1))),
                    new TlsFiles(tlsDirectory.resolve("ca.crt"), tlsDirectory.resolve("registry.crt"), tlsDirectory.resolve("registry.key")));
        }
        RegistryProcess.run(options);
        return 0;
    }
}
