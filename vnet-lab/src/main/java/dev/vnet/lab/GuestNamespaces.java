package dev.vnet.lab;

import dev.vnet.registry.Ipam;
import dev.vnet.wire.Ipv4Address;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a hypervisor does for a VM on this host, done to the network namespace that stands for the VM:
 * create it when the VM is placed here, configure the guest's NIC the way its OS would at boot (DHCP
 * stands in as the agent, which knows the assigned address), and destroy it, with whatever runs inside,
 * when the VM is deleted. Every step is idempotent, so a restarted agent can run it again over a
 * namespace that survived it.
 *
 * <p>The agent must run in the root mount namespace ({@code nsenter --net=...}, not {@code ip netns
 * exec}): a namespace is a bind mount under /run/netns, and one made inside the private mount namespace
 * of {@code ip netns exec} would be invisible everywhere else.
 */
public final class GuestNamespaces {
    private final String prefix;

    /** @param prefix what every VM namespace's name starts with ({@code vn-<lab>-v-} in a lab) */
    public GuestNamespaces(String prefix) {
        this.prefix = prefix;
    }

    /** The namespace of the VM named {@code vm}. */
    public String namespaceOf(String vm) {
        return prefix + vm;
    }

    /** Creates the VM's namespace unless it exists: loopback up, IPv6 off (the data plane does not carry it). */
    public String create(String vm) {
        String namespace = namespaceOf(vm);
        if (!exists(namespace)) {
            Shell.run("ip", "netns", "add", namespace).orThrow();
        }
        Shell.run("ip", "-n", namespace, "link", "set", "lo", "up").orThrow();
        Shell.run("ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1").orThrow();
        return namespace;
    }

    /**
     * Names the TAP the agent moved into the namespace {@code eth0}, gives it the address, brings it up
     * and routes everything outside the subnet to the subnet's gateway address ({@link Ipam#subnetGateway}),
     * as DHCP's router option would: the agent answers that address's ARP and the registry decides where
     * such packets go (a load balancer's clients, the VM's egress through a gateway).
     */
    public void configureNic(String vm, String tap, String address, int prefixLength) {
        String namespace = namespaceOf(vm);
        if (Shell.run("ip", "-n", namespace, "link", "show", "dev", tap).ok()) {
            Shell.run("ip", "-n", namespace, "link", "set", "dev", tap, "name", LabNames.VM_NIC).orThrow();
        }
        Shell.run("ip", "-n", namespace, "addr", "replace", address + "/" + prefixLength, "dev", LabNames.VM_NIC).orThrow();
        Shell.run("ip", "-n", namespace, "link", "set", LabNames.VM_NIC, "up").orThrow();
        int gateway = Ipam.subnetGateway(Ipv4Address.parse(address), prefixLength);
        if (gateway != Ipam.NO_GATEWAY) {
            Shell.run("ip", "-n", namespace, "route", "replace", "default", "via", Ipv4Address.toString(gateway),
                    "dev", LabNames.VM_NIC).orThrow();
        }
    }

    /**
     * Makes {@code addresses} (dotted quads), and no others, the VM's additional addresses: each a /32 on
     * the namespace's {@code lo}, so that its kernel accepts packets to them (a load balancer VIP the VM
     * holds itself) and answers from them. Compares with what {@code lo} holds, so it is idempotent and
     * also removes what a surviving namespace still has from before; loopback's own 127/8 is left alone.
     */
    public void setLoopbackAddresses(String vm, Collection<String> addresses) {
        String namespace = namespaceOf(vm);
        String shown = Shell.run("ip", "-n", namespace, "-o", "-4", "addr", "show", "dev", "lo").orThrow().output();
        LoopbackChanges changes = loopbackChanges(shown, addresses);
        for (String gone : changes.remove()) {
            Shell.run("ip", "-n", namespace, "addr", "del", gone + "/32", "dev", "lo").orThrow();
        }
        for (String added : changes.add()) {
            Shell.run("ip", "-n", namespace, "addr", "add", added + "/32", "dev", "lo").orThrow();
        }
    }

    /** Addresses to add to and remove from {@code lo} (dotted quads, without the /32). */
    public record LoopbackChanges(List<String> add, List<String> remove) {
        public LoopbackChanges {
            add = List.copyOf(add);
            remove = List.copyOf(remove);
        }
    }

    /**
     * What to change on {@code lo} to hold exactly {@code wanted} besides its own loopback addresses:
     * {@code shown} is the output of {@code ip -o -4 addr show dev lo}. Only /32s outside 127/8 count as
     * additional addresses.
     */
    public static LoopbackChanges loopbackChanges(String shown, Collection<String> wanted) {
        Set<String> held = new LinkedHashSet<>();
        for (String line : shown.split("\n")) {
            String[] words = line.trim().split("\\s+");
            for (int i = 0; i + 1 < words.length; i++) {
                if (words[i].equals("inet") && words[i + 1].endsWith("/32") && !words[i + 1].startsWith("127.")) {
                    held.add(words[i + 1].substring(0, words[i + 1].length() - 3));
                }
            }
        }
        Set<String> want = new LinkedHashSet<>(wanted);
        List<String> add = new ArrayList<>();
        for (String address : want) {
            if (!held.contains(address)) {
                add.add(address);
            }
        }
        List<String> remove = new ArrayList<>();
        for (String address : held) {
            if (!want.contains(address)) {
                remove.add(address);
            }
        }
        return new LoopbackChanges(add, remove);
    }

    /** Stops whatever runs in the VM's namespace and removes it; nothing happens if it is gone. */
    public void destroy(String vm) {
        String namespace = namespaceOf(vm);
        if (!exists(namespace)) {
            return;
        }
        Lab.killProcessesIn(namespace);
        Shell.run("ip", "netns", "del", namespace).orThrow();
    }

    public static boolean exists(String namespace) {
        return Files.exists(Path.of("/run/netns", namespace));
    }
}
