package dev.vnet.vsock.host;

import dev.vnet.vsock.mapper.SocketMapper;
import dev.vnet.vsock.session.Session;
import dev.vnet.vsock.transport.SessionAddress;
import dev.vnet.vsock.transport.SessionSocket;
import dev.vnet.vsock.transport.SessionSockets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host virtual socket device of one VM: listens where only that VM can reach it (an abstract Unix
 * name inside the VM's network namespace, or an AF_VSOCK port for a real VM) and runs a
 * {@link HostSession} for each guest session it accepts. Sessions are independent: a guest that
 * breaks the protocol loses its own session, and the device accepts the next.
 */
public final class HostDevice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HostDevice.class);
    /** Sessions one VM may hold at once; more are refused (each costs two threads here). */
    static final int MAX_SESSIONS = 8;

    private final String vm;
    private final SessionSockets.Listener listener;
    private final SocketMapper mapper;
    private final HostCounters counters;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private HostDevice(String vm, SessionSockets.Listener listener, SocketMapper mapper, HostCounters counters) {
        this.vm = vm;
        this.listener = listener;
        this.mapper = mapper;
        this.counters = counters;
        this.acceptor = Thread.ofPlatform().name("vsock-" + vm + "-accept").daemon().start(this::acceptLoop);
    }

    /** A device for VM {@code vm} that lives in network namespace {@code namespace} (a namespace VM). */
    public static HostDevice inNamespace(String vm, String namespace, SocketMapper mapper, HostCounters counters) throws IOException {
        SessionSockets.Listener listener = SessionSockets.listenIn(namespace,
                new SessionAddress.AbstractUnix(SessionAddress.DEFAULT_UNIX_NAME));
        LOG.info("vm {}: socket device at {} in {}", vm, listener.address(), namespace);
        return new HostDevice(vm, listener, mapper, counters);
    }

    /** A device for VM {@code vm} at {@code address} in this process's namespace (AF_VSOCK for a real VM, or tests). */
    public static HostDevice at(String vm, SessionAddress address, SocketMapper mapper, HostCounters counters) throws IOException {
        return new HostDevice(vm, SessionSockets.listen(address), mapper, counters);
    }

    public String vm() {
        return vm;
    }

    public int sessions() {
        return sessions.size();
    }

    private void acceptLoop() {
        while (true) {
            SessionSocket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (sessions.size() >= MAX_SESSIONS) {
                counters.sessionsRefused.increment();
                socket.close();
                continue;
            }
            counters.sessions.increment();
            Session session = new Session(socket, vm, new HostSession(vm, mapper, counters, sessions::remove));
            sessions.add(session);
            session.start();
        }
    }

    @Override
    public void close() {
        listener.close();
        sessions.forEach(Session::close);
        try {
            acceptor.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
