package dev.vnet.controller.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * The bodies of the create requests, as Neutron wraps them: {@code {"network": {...}}}. Every field the
 * API takes is declared here; {@link JsonBodies} refuses any other. Missing fields read as null and are
 * checked by the route, which names the missing one.
 */
final class RequestBodies {
    private RequestBodies() {
    }

    record ProjectCreate(ProjectFields project) {
    }

    record ProjectFields(String name) {
    }

    record HostCreate(HostFields host) {
    }

    /**
     * @param address  the host's underlay IPv4 address
     * @param location its location label; null (omitted) for none
     */
    record HostFields(String name, String address, String location) {
    }

    record NetworkCreate(NetworkFields network) {
    }

    record NetworkFields(String name, @JsonProperty("project_id") String projectId,
                         @JsonProperty("provider:segmentation_id") Long segmentationId) {
    }

    record SubnetCreate(SubnetFields subnet) {
    }

    record SubnetFields(String name, @JsonProperty("network_id") String networkId, String cidr,
                        @JsonProperty("ip_version") Integer ipVersion) {
    }

    record PortCreate(PortFields port) {
    }

    record PortFields(String name, @JsonProperty("network_id") String networkId,
                      @JsonProperty("fixed_ips") List<FixedIp> fixedIps) {
    }

    record FixedIp(@JsonProperty("subnet_id") String subnetId, @JsonProperty("ip_address") String ipAddress) {
    }

    record VmCreate(VmFields vm) {
    }

    /** @param host the host's id or name */
    record VmFields(String name, @JsonProperty("project_id") String projectId, String host,
                    @JsonProperty("port_id") String portId, @JsonProperty("network_id") String networkId) {
    }

    /**
     * {@code {"loadbalancer": {...}}}: the inner object is read by LoadBalancerSpec.fromJson, which
     * refuses its unknown fields and names the field of every other mistake.
     */
    record LoadBalancerCreate(JsonNode loadbalancer) {
    }

    /** {@code {"gateway": {...}}}, read by GatewaySpec.fromJson. */
    record GatewayCreate(JsonNode gateway) {
    }
}
