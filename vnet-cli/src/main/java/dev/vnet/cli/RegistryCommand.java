package dev.vnet.cli;

import dev.vnet.registry.pki.TlsFiles;
import dev.vnet.registry.server.RegistryProcess;
import dev.vnet.store.ConfigStore;
import dev.vnet.store.EmbeddedConfigStore;
import dev.vnet.store.InMemoryConfigStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
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

    @Mixin
    TokenOptions tokens;

    @Override
    public Integer call() throws Exception {
        if (listen == null && adminSocket == null) {
            throw new IllegalArgumentException("vnet registry needs --listen and/or --admin-socket");
        }
        if (listen != null && tlsDirectory == null) {
            throw new IllegalArgumentException("--listen needs --tls-dir (agents connect with mutual TLS)");
        }
        ConfigStore configStore = store.equals("memory") ? new InMemoryConfigStore() : EmbeddedConfigStore.open(Path.of(store));
        RegistryProcess.Options options = RegistryProcess.Options.of(configStore, adminSocket).withConfig(tokens.config());
        if (listen != null) {
            options = options.withTcp(TokenOptions.address("--listen", listen),
                    new TlsFiles(tlsDirectory.resolve("ca.crt"), tlsDirectory.resolve("registry.crt"), tlsDirectory.resolve("registry.key")));
        }
        RegistryProcess.run(options);
        return 0;
    }
}
