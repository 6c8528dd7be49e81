package dev.vnet.bgp.session;

import io.netty.channel.ChannelFuture;

import java.net.InetSocketAddress;

/** Opens an outgoing TCP connection with {@code connection} installed in its pipeline. */
@FunctionalInterface
public interface Connector {
    ChannelFuture connect(InetSocketAddress remote, BgpConnection connection);
}
