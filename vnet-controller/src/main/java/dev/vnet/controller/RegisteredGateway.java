package dev.vnet.controller;

import dev.vnet.gateway.config.GatewaySpec;

/** A gateway the controller knows: the id it gave it and the spec it registered with. */
public record RegisteredGateway(String id, GatewaySpec spec) {
}
