package dev.vnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.vsock.guest.DnsFront;
import dev.vnet.vsock.guest.GuestClient;
import dev.vnet.vsock.guest.OffloadRules;
import dev.vnet.vsock.guest.Socks5Front;
import dev.vnet.vsock.host.SocketDevices;
import dev.vnet.vsock.transport.SessionAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code vnet vsock guest|host}: socket offload (seed 000, docs/vsock.md). */
@Command(name = "vsock", mixinStandardHelpOptions = true,
        description = {"Socket offload: a guest coprocessor with a SOCKS5 front, and the host's virtual socket devices."},
        subcommands = {VsockCommand.Guest.class, VsockCommand.Host.class})
final class VsockCommand {
    private static final Logger LOG = LoggerFactory.getLogger(VsockCommand.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Command(name = "guest", mixinStandardHelpOptions = true,
            description = {"Runs inside a VM: offloads applications' socket commands to the host's device.",
                    "Applications use the SOCKS5 front (curl --socks5-hostname 127.0.0.1:1080 ...)."})
    static final class Guest implements Callable<Integer> {
        @Option(names = "--device", defaultValue = "unix:@vnet-vsock",
                description = "The host's device: unix:@NAME (a namespace VM) or vsock:[CID:]PORT (default ${DEFAULT-VALUE}).")
        String device;

        @Option(names = "--socks", defaultValue = "127.0.0.1:1080", description = "Where the SOCKS5 front listens (default ${DEFAULT-VALUE}).")
        String socks;

        @Option(names = "--dns", defaultValue = "127.0.0.1:53",
                description = "Where the DNS front answers the guest's lookups through the host (default ${DEFAULT-VALUE}; 'off' for none).")
        String dns;

        @Option(names = "--rule", paramLabel = "offload:REGEX|local:REGEX",
                description = "Which commands to offload, by destination URI (tcp://host:port, udp://host:port); first match wins, "
                        + "offload when none matches; repeatable.")
        List<String> rules = new ArrayList<>();

        @Option(names = "--name", defaultValue = "guest", description = "The guest's name in the host's logs.")
        String name;

        @Option(names = "--status-file", description = "Where to write the daemon's counters (JSON) every second.")
        Path statusFile;

        private GuestClient client;
        private long lastAttemptNanos;

        @Override
        public Integer call() throws Exception {
            SessionAddress address = SessionAddress.parse(device);
            OffloadRules offloadRules = OffloadRules.parse(rules);
            int colon = socks.lastIndexOf(':');
            Socks5Front front = new Socks5Front(new InetSocketAddress(socks.substring(0, colon), Integer.parseInt(socks.substring(colon + 1))),
                    () -> session(address), offloadRules).start();
            if (!dns.equals("off")) {
                int dnsColon = dns.lastIndexOf(':');
                new DnsFront(new InetSocketAddress(dns.substring(0, dnsColon), Integer.parseInt(dns.substring(dnsColon + 1))),
                        () -> session(address)).start();
            }
            LOG.info("socket offload guest: SOCKS5 on {}, DNS on {}, device {}", socks, dns, address);
            session(address);
            while (true) {
                Thread.sleep(1000);
                if (statusFile != null) {
                    ObjectNode status = JSON.createObjectNode();
                    status.put("state", "running");
                    status.put("session", client != null && client.isOpen());
                    ObjectNode counters = status.putObject("counters");
                    counters.put("offloaded", front.counters().offloaded.sum());
                    counters.put("local", front.counters().local.sum());
                    counters.put("fallbacks", front.counters().fallbacks.sum());
                    counters.put("denied", front.counters().denied.sum());
                    counters.put("failed", front.counters().failed.sum());
                    StatusFiles.replace(statusFile, JSON.writeValueAsString(status));
                }
            }
        }

        /** The session to the device, opened again (at most once a second) when there is none. */
        private synchronized GuestClient session(SessionAddress address) {
            if (client != null && client.isOpen()) {
                return client;
            }
            if (client != null && System.nanoTime() - lastAttemptNanos < 1_000_000_000L) {
                return null;
            }
            lastAttemptNanos = System.nanoTime();
            try {
                client = GuestClient.connect(address, name);
                LOG.info("session to {} open", address);
                return client;
            } catch (IOException e) {
                LOG.warn("no session to {}: {}", address, e.getMessage());
                return null;
            }
        }
    }

    @Command(name = "host", mixinStandardHelpOptions = true,
            description = {"Runs on a host: one virtual socket device per VM, in the VM's network namespace, with its policy."})
    static final class Host implements Callable<Integer> {
        @Option(names = "--vm", required = true, paramLabel = "NAME=NAMESPACE",
                description = "A VM and its network namespace; repeatable.")
        Map<String, String> vms = new LinkedHashMap<>();

        @Option(names = "--policy-dir", required = true,
                description = "Directory of per-VM policy files (*.json: access list, rewrites; see docs/vsock.md), reread every second.")
        Path policyDirectory;

        @Option(names = "--status-file", description = "Where to write the devices' counters (JSON) every second.")
        Path statusFile;

        @Override
        public Integer call() throws Exception {
            SocketDevices devices = SocketDevices.start(policyDirectory, statusFile);
            vms.forEach(devices::add);
            Runtime.getRuntime().addShutdownHook(new Thread(devices::close));
            Thread.currentThread().join(); // the devices work on their own threads until the process is stopped
            return 0;
        }
    }
}
