package dev.vnet.controller;

import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.graph.Resource;
import dev.vnet.gateway.config.ForwardingMode;
import dev.vnet.gateway.config.GatewaySpec;
import dev.vnet.gateway.config.ListenerPort;
import dev.vnet.gateway.config.LoadBalancerSpec;
import dev.vnet.gateway.hashing.FlowIdentity;
import dev.vnet.gateway.hashing.MappingSpec;
import dev.vnet.registry.Gateway;
import dev.vnet.registry.RegistryConfig;
import dev.vnet.registry.RegistryService;
import dev.vnet.registry.Vm;
import dev.vnet.store.InMemoryConfigStore;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The registry's gateway sets and VMs' additional addresses follow the gateway and load balancer
 * documents: every registered gateway serves every network, an unchanged-mode load balancer's
 * backends own its VIP, and the hosts of those VMs are told; all of it also after a restart.
 */
class GatewayRegistrySyncTest {
    private final InMemoryConfigStore store = new InMemoryConfigStore();
    private final List<Set<String>> published = new ArrayList<>();
    private final HostChangeSink sink = new HostChangeSink() {
        @Override
        public synchronized void publish(long version, Set<String> hosts) {
            published.add(Set.copyOf(hosts));
        }

        @Override
        public void forget(Set<String> hosts) {
        }

        @Override
        public SyncStatus awaitApplied(long version, Duration timeout) {
            return new SyncStatus(true, List.of());
        }
    };

    private Controller start() {
        return new Controller(store, new RegistryService(store, RegistryService.STORE_PREFIX, RegistryConfig.defaults()), sink);
    }

    @Test
    void gatewaysServeEveryNetworkAndUnchangedBackendsOwnTheVip() {
        Controller controller = start();
        String project = controller.createProject("p").value().id();
        Resource h1 = controller.createHost("h1", "10.255.0.1").value();
        String blue = controller.createNetwork(project, "blue").value().id();
        String blueSubnet = controller.createSubnet(blue, "s", "10.0.0.0/24").value().id();
        String red = controller.createNetwork(project, "red").value().id();
        controller.createSubnet(red, "s", "10.1.0.0/24");
        Resource port = controller.createPort(blueSubnet, "web1", null).value();
        Resource web1 = controller.createVm(project, "web1", h1.id(), List.of(port.id())).value();

        controller.createGateway(new GatewaySpec("gw1", Ipv4Address.parse("10.255.0.21"), 4790, "zone-a", Ipv4Address.parse("198.18.0.1")));
        controller.createGateway(new GatewaySpec("gw2", Ipv4Address.parse("10.255.0.22"), 4790, "zone-b", Ipv4Address.parse("198.18.0.2")));
        assertThat(controller.registry().gateways()).extracting(Gateway::network, Gateway::name)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(blue, "gw1"), org.assertj.core.groups.Tuple.tuple(blue, "gw2"),
                        org.assertj.core.groups.Tuple.tuple(red, "gw1"), org.assertj.core.groups.Tuple.tuple(red, "gw2"));

        int vip = Ipv4Address.parse("203.0.113.10");
        published.clear();
        LoadBalancerSpec defaults = LoadBalancerSpec.withDefaults("web", "blue", vip, List.of(ListenerPort.tcp(80)), List.of("web1"));
        controller.createLoadBalancer(new LoadBalancerSpec(defaults.name(), defaults.network(), vip, defaults.ports(), defaults.backends(),
                ForwardingMode.UNCHANGED, FlowIdentity.FIVE_TUPLE, MappingSpec.DEFAULT, defaults.healthCheck(), false, 300));
        assertThat(vmNamed(controller, web1.id()).additionalAddresses()).containsExactly(vip);
        assertThat(published.getLast()).contains("h1");

        // A new network gets the gateways too; a restart keeps all of it.
        String green = controller.createNetwork(project, "green").value().id();
        controller.createSubnet(green, "s", "10.2.0.0/24");
        Controller restarted = start();
        assertThat(restarted.registry().gateways()).hasSize(6);
        assertThat(vmNamed(restarted, web1.id()).additionalAddresses()).containsExactly(vip);

        restarted.deleteLoadBalancer("web");
        assertThat(vmNamed(restarted, web1.id()).additionalAddresses()).isEmpty();
        restarted.deleteGateway("gw2");
        assertThat(restarted.registry().gateways()).extracting(Gateway::name).containsOnly("gw1");
        // A network with gateways can still be deleted: its gateways go first.
        restarted.delete(green, true);
        assertThat(restarted.registry().gateways()).extracting(Gateway::network).doesNotContain(green);
    }

    private static Vm vmNamed(Controller controller, String id) {
        return controller.registry().vms().stream().filter(v -> v.name().equals(id)).findFirst().orElseThrow();
    }
}
