/*
 * The controller's northbound API: REST with JSON bodies, in OpenStack Neutron's shape where Neutron
 * has the resource (networks, subnets, ports), the same conventions for the rest (projects, hosts,
 * VMs). The OpenAPI document (openapi.json next to this class, served at GET /openapi.json) describes
 * every route and schema; OpenApiDocumentTest checks that its routes are exactly this file's.
 *
 * Routes, under /v2.0 for each resource R of projects, hosts, networks, subnets, ports, vms:
 *   POST   /v2.0/R        body {"r": {...}}   201 created, 200 when it already existed as asked
 *   GET    /v2.0/R        ?name= (subnets, ports also ?network_id=)   200 {"rs": [...]}
 *   GET    /v2.0/R/{id}   200 {"r": {...}}
 *   DELETE /v2.0/R/{id}   ?force=true   204
 *   GET    /v2.0/sync?version=N&timeout=S   200 {"complete": bool, "pending_hosts": [...]}
 * A host is named by its id or its name wherever the API takes one (its name is its identity).
 *
 * Load balancing, in Octavia's naming where it has one; both kinds are named by id or name in paths:
 *   POST/GET /v2.0/lbaas/loadbalancers, GET/DELETE /v2.0/lbaas/loadbalancers/{id}
 *            envelope "loadbalancer": LoadBalancerSpec's JSON (dev.vnet.gateway.config); the view adds
 *            "id", "network_id" and "members": the backends that are VMs of the network now, with
 *            their address, host and the host's location
 *   POST/GET /v2.0/gateways, GET/DELETE /v2.0/gateways/{id}
 *            envelope "gateway": GatewaySpec's JSON; the view adds "id". A gateway registers itself.
 * Deleting a backend VM is allowed: the load balancer just loses that member (and regains it when a
 * VM of that name is created in the network again). Deleting a network or project a load balancer is
 * in is refused (409 InUse naming it) unless ?force=true, which deletes the load balancer too.
 *
 * Versions and waiting. Every write answers with X-Vnet-Version: the config store revision after it,
 * which the hosts acknowledge once they applied it. GET /v2.0/sync waits (default 10 s, at most 120)
 * until every host the changes up to that version touched has applied them. A write given ?wait=true
 * (and ?timeout=S) does that wait itself before answering and says how it went in X-Vnet-Sync:
 * "complete", or "pending h1,h2" naming the hosts that had not applied it in time (the write itself
 * is done either way, so the status stays 200/201/204).
 *
 * Idempotent creates. Every resource has a name, unique among its owner's children of that kind (a
 * project's networks and VMs, a network's subnets, a subnet's ports; projects and hosts globally), so
 * a create is idempotent by name: the same body again returns the same resource (200 instead of 201:
 * the API answers 200 when the name existed before the request, so two identical creates racing may
 * both get 201, with the same id), and the same name with another specification is 409. A create
 * retried after a lost reply therefore never makes a second resource. The id is always the
 * controller's (a UUID); a client cannot choose it.
 *
 * Refusals change nothing. Everything a request names is looked up, and everything it asks is
 * checked, before the first write; the graph then checks its own rules (names, addresses inside the
 * subnet and free, overlapping subnets, one subnet per network, ports free) in the task that would
 * write, before it writes. The API itself writes before the main write in two places, each after
 * every check it can make first: a network without project_id goes into the project named "default",
 * created on first use (after the network's name is checked; only running out of network ids can
 * refuse the network then); a VM given network_id instead of port_id gets a port named after it in
 * that network's subnet, created first and deleted again if the VM is then refused (after the host,
 * network, project and names are checked; what remains is a host without free UDP ports, the new
 * port's MAC already used in another network, or a race with another request). Such a refusal leaves
 * no resource behind, but the store's revision has moved.
 *
 * Errors: {"NeutronError": {"type", "message", "detail"}} with 400 (malformed JSON, unknown field,
 * wrong type, missing field, a graph rule: INVALID), 404 (unknown route or resource, also one named in
 * the body), 405, 409 (CONFLICT, IN_USE, EXHAUSTED), 413 (body over 1 MiB), 415 (not JSON), 500.
 */
package dev.vnet.controller.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vnet.controller.Controller;
import dev.vnet.controller.Controller.Change;
import dev.vnet.controller.RegisteredGateway;
import dev.vnet.controller.channel.SyncStatus;
import dev.vnet.controller.graph.Kind;
import dev.vnet.controller.graph.Resource;
import dev.vnet.controller.graph.ResourceGraph;
import dev.vnet.gateway.config.GatewaySpec;
import dev.vnet.gateway.config.LoadBalancer;
import dev.vnet.gateway.config.LoadBalancerSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static dev.vnet.controller.api.RequestBodies.FixedIp;
import static dev.vnet.controller.api.RequestBodies.HostCreate;
import static dev.vnet.controller.api.RequestBodies.HostFields;
import static dev.vnet.controller.api.RequestBodies.NetworkCreate;
import static dev.vnet.controller.api.RequestBodies.NetworkFields;
import static dev.vnet.controller.api.RequestBodies.PortCreate;
import static dev.vnet.controller.api.RequestBodies.PortFields;
import static dev.vnet.controller.api.RequestBodies.ProjectCreate;
import static dev.vnet.controller.api.RequestBodies.ProjectFields;
import static dev.vnet.controller.api.RequestBodies.SubnetCreate;
import static dev.vnet.controller.api.RequestBodies.SubnetFields;
import static dev.vnet.controller.api.RequestBodies.VmCreate;
import static dev.vnet.controller.api.RequestBodies.VmFields;

/** The API's routes and what each does; described at the top of this file. Thread-safe. */
public final class NorthboundApi {
    public static final String PREFIX = "/v2.0";
    public static final String VERSION_HEADER = "X-Vnet-Version";
    public static final String SYNC_HEADER = "X-Vnet-Sync";
    public static final String DEFAULT_PROJECT = "default";
    public static final long DEFAULT_SYNC_SECONDS = 10;
    public static final long MAX_SYNC_SECONDS = 120;

    private static final Logger LOG = LoggerFactory.getLogger(NorthboundApi.class);
    private static final Set<String> WRITE_QUERY = Set.of("wait", "timeout");
    private static final Set<String> DELETE_QUERY = Set.of("force", "wait", "timeout");

    private final Controller controller;
    private final Router router = new Router();
    private final JsonNode openApi;

    public NorthboundApi(Controller controller) {
        this.controller = controller;
        this.openApi = loadOpenApi();
        router.add("GET", "/openapi.json", Set.of(), request -> Reply.json(200, openApi));
        resource(Kind.PROJECT, Set.of("name"), this::createProject);
        resource(Kind.HOST, Set.of("name"), this::createHost);
        resource(Kind.NETWORK, Set.of("name"), this::createNetwork);
        resource(Kind.SUBNET, Set.of("name", "network_id"), this::createSubnet);
        resource(Kind.PORT, Set.of("name", "network_id"), this::createPort);
        resource(Kind.VM, Set.of("name"), this::createVm);
        router.add("GET", PREFIX + "/sync", Set.of("version", "timeout"), this::sync);
        loadBalancerRoutes();
        gatewayRoutes();
    }

    Router router() {
        return router;
    }

    /** The OpenAPI document this API serves. */
    public JsonNode openApi() {
        return openApi.deepCopy();
    }

    private void resource(Kind kind, Set<String> listQuery, Router.Handler create) {
        String collection = PREFIX + "/" + kind.label() + "s";
        router.add("POST", collection, WRITE_QUERY, create);
        router.add("GET", collection, listQuery, request -> list(kind, request));
        router.add("GET", collection + "/{id}", Set.of(), request -> show(kind, request));
        router.add("DELETE", collection + "/{id}", DELETE_QUERY, request -> delete(kind, request));
    }

    // ---- reads ----

    private Reply list(Kind kind, ApiRequest request) {
        Views views = new Views(controller);
        Optional<String> name = request.query("name");
        Optional<String> networkId = request.query("network_id");
        List<Resource> matching = views.all(kind).stream()
                .filter(r -> name.isEmpty() || r.name().equals(name.get()))
                .filter(r -> networkId.isEmpty() || networkId.get().equals(networkOf(r)))
                .toList();
        return Reply.json(200, views.list(kind, matching));
    }

    /** The network a subnet or port is in. */
    private String networkOf(Resource resource) {
        return switch (resource.kind()) {
            case SUBNET -> resource.ownerId();
            case PORT -> controller.get(resource.ownerId()).map(Resource::ownerId).orElse(null);
            default -> null;
        };
    }

    private Reply show(Kind kind, ApiRequest request) {
        Resource resource = find(kind, request.pathParameter("id"));
        return Reply.json(200, Views.envelope(kind, new Views(controller).of(resource)));
    }

    private Reply sync(ApiRequest request) {
        long version = request.number("version", 0, Long.MAX_VALUE, -1);
        if (version < 0) {
            throw ApiError.badRequest("query parameter 'version' is required: the X-Vnet-Version a write answered with");
        }
        long timeout = request.number("timeout", 0, MAX_SYNC_SECONDS, DEFAULT_SYNC_SECONDS);
        return Reply.json(200, syncJson(controller.awaitApplied(version, Duration.ofSeconds(timeout))));
    }

    static ObjectNode syncJson(SyncStatus status) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("complete", status.complete());
        ArrayNode pending = body.putArray("pending_hosts");
        status.pendingHosts().forEach(pending::add);
        return body;
    }

    // ---- creates ----

    private Reply createProject(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        ProjectFields fields = envelope(request.body(ProjectCreate.class).project(), Kind.PROJECT);
        String name = required(fields.name(), "project.name");
        boolean existed = named(Kind.PROJECT, null, name).isPresent();
        return created(wait, existed, controller.createProject(name));
    }

    private Reply createHost(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        HostFields fields = envelope(request.body(HostCreate.class).host(), Kind.HOST);
        String name = required(fields.name(), "host.name");
        String address = required(fields.address(), "host.address");
        String location = fields.location() == null ? "" : fields.location();
        boolean existed = named(Kind.HOST, null, name).isPresent();
        return created(wait, existed, controller.createHost(name, address, location));
    }

    private Reply createNetwork(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        NetworkFields fields = envelope(request.body(NetworkCreate.class).network(), Kind.NETWORK);
        String name = required(fields.name(), "network.name");
        ResourceGraph.requireValidName(Kind.NETWORK, name); // before the default project may be created
        Resource project = fields.projectId() != null ? find(Kind.PROJECT, fields.projectId()) : defaultProject();
        boolean existed = named(Kind.NETWORK, project.id(), name).isPresent();
        return created(wait, existed, controller.createNetwork(project.id(), name, fields.segmentationId()));
    }

    private Resource defaultProject() {
        return named(Kind.PROJECT, null, DEFAULT_PROJECT).orElseGet(() -> {
            Resource project = controller.createProject(DEFAULT_PROJECT).value();
            LOG.info("created project {} ({}) for a network that named none", DEFAULT_PROJECT, project.id());
            return project;
        });
    }

    private Reply createSubnet(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        SubnetFields fields = envelope(request.body(SubnetCreate.class).subnet(), Kind.SUBNET);
        String name = required(fields.name(), "subnet.name");
        String networkId = required(fields.networkId(), "subnet.network_id");
        String cidr = required(fields.cidr(), "subnet.cidr");
        if (fields.ipVersion() != null && fields.ipVersion() != 4) {
            throw ApiError.badRequest("subnet.ip_version " + fields.ipVersion() + " is not supported: vnet carries IPv4 only");
        }
        Resource network = find(Kind.NETWORK, networkId);
        boolean existed = named(Kind.SUBNET, network.id(), name).isPresent();
        return created(wait, existed, controller.createSubnet(network.id(), name, cidr));
    }

    private Reply createPort(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        PortFields fields = envelope(request.body(PortCreate.class).port(), Kind.PORT);
        String name = required(fields.name(), "port.name");
        String networkId = required(fields.networkId(), "port.network_id");
        List<FixedIp> fixedIps = fields.fixedIps() == null ? List.of() : fields.fixedIps();
        if (fixedIps.size() > 1) {
            throw ApiError.badRequest("port.fixed_ips has " + fixedIps.size() + " entries; a port has at most one address for now");
        }
        FixedIp fixedIp = fixedIps.isEmpty() ? new FixedIp(null, null) : required(fixedIps.getFirst(), "port.fixed_ips[0]");
        Resource network = find(Kind.NETWORK, networkId);
        Resource subnet;
        if (fixedIp.subnetId() != null) {
            subnet = find(Kind.SUBNET, fixedIp.subnetId());
            if (!subnet.ownerId().equals(network.id())) {
                throw ApiError.badRequest("subnet " + subnet.name() + " (" + subnet.id() + ") is not in network " + network.name());
            }
        } else {
            subnet = onlySubnet(network);
        }
        boolean existed = named(Kind.PORT, subnet.id(), name).isPresent();
        return created(wait, existed, controller.createPort(subnet.id(), name, fixedIp.ipAddress()));
    }

    private Reply createVm(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        VmFields fields = envelope(request.body(VmCreate.class).vm(), Kind.VM);
        String name = required(fields.name(), "vm.name");
        ResourceGraph.requireValidName(Kind.VM, name);
        Resource host = findHost(required(fields.host(), "vm.host"));
        if ((fields.portId() == null) == (fields.networkId() == null)) {
            throw ApiError.badRequest("a vm needs exactly one of vm.port_id (an existing free port) and vm.network_id "
                    + "(a port is created for it)");
        }
        Resource project = fields.projectId() == null ? null : find(Kind.PROJECT, fields.projectId());
        if (fields.portId() != null) {
            Resource port = find(Kind.PORT, fields.portId());
            Resource network = controller.get(networkOf(port), Kind.NETWORK);
            project = projectFor(project, network);
            boolean existed = named(Kind.VM, project.id(), name).isPresent();
            return created(wait, existed, controller.createVm(project.id(), name, host.id(), List.of(port.id())));
        }
        Resource network = find(Kind.NETWORK, fields.networkId());
        Resource subnet = onlySubnet(network);
        project = projectFor(project, network);
        Optional<Resource> existing = named(Kind.VM, project.id(), name);
        if (existing.isPresent()) {
            return existingVm(wait, existing.get(), host, network);
        }
        return created(wait, false, createVmWithPort(project, name, host, subnet));
    }

    /** A VM asked for with network_id that already exists: the same VM if it is on that host and network. */
    private Reply existingVm(WaitOption wait, Resource vm, Resource host, Resource network) {
        Views views = new Views(controller);
        ObjectNode view = views.of(vm);
        String portNetwork = view.path("port_id").isTextual()
                ? controller.get(view.get("port_id").asText()).map(this::networkOf).orElse(null) : null;
        if (!host.id().equals(view.get("host_id").asText()) || !network.id().equals(portNetwork)) {
            throw ApiError.conflict("vm " + vm.name() + " already exists on host " + view.path("host").asText()
                    + " with port " + view.path("port_id").asText("(none)") + "; it is not on host " + host.name()
                    + " in network " + network.name());
        }
        return wait.apply(controller, Reply.json(200, Views.envelope(Kind.VM, view))
                .withHeader(VERSION_HEADER, Long.toString(controller.version())));
    }

    /**
     * Creates the VM's port (named after it; one left by an earlier attempt is reused if free), then the
     * VM; a port this request created is deleted again if the VM is refused.
     */
    private Change<Resource> createVmWithPort(Resource project, String name, Resource host, Resource subnet) {
        Optional<Resource> leftover = named(Kind.PORT, subnet.id(), name);
        if (leftover.isPresent() && !leftover.get().usedBy().isEmpty()) {
            throw ApiError.conflict("port " + name + " in subnet " + subnet.name() + " is already used by vm "
                    + leftover.get().usedBy().getFirst() + "; give this vm another name, or a port_id");
        }
        Resource port = leftover.orElseGet(() -> controller.createPort(subnet.id(), name, null).value());
        try {
            return controller.createVm(project.id(), name, host.id(), List.of(port.id()));
        } catch (RuntimeException refused) {
            if (leftover.isEmpty()) {
                try {
                    controller.delete(port.id(), false);
                } catch (RuntimeException e) {
                    refused.addSuppressed(e);
                    LOG.warn("could not delete port {} ({}) after vm {} was refused: {}", name, port.id(), name, e.toString());
                }
            }
            throw refused;
        }
    }

    /** The VM's project: the one given, which must own the network, or else the network's. */
    private Resource projectFor(Resource given, Resource network) {
        if (given == null) {
            return controller.get(network.ownerId(), Kind.PROJECT);
        }
        if (!given.id().equals(network.ownerId())) {
            throw ApiError.badRequest("network " + network.name() + " belongs to project " + network.ownerId() + ", not "
                    + given.name() + "; a vm's port must be in one of its project's networks");
        }
        return given;
    }

    private Reply created(WaitOption wait, boolean existed, Change<Resource> change) {
        Resource resource = change.value();
        Reply reply = Reply.json(existed ? 200 : 201, Views.envelope(resource.kind(), new Views(controller).of(resource)))
                .withHeader(VERSION_HEADER, Long.toString(change.version()));
        return wait.apply(controller, reply);
    }

    // ---- delete ----

    private Reply delete(Kind kind, ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        boolean force = request.flag("force");
        Resource resource = find(kind, request.pathParameter("id"));
        Change<Void> change = controller.delete(resource.id(), force);
        return wait.apply(controller, Reply.noContent().withHeader(VERSION_HEADER, Long.toString(change.version())));
    }

    // ---- load balancers and gateways ----

    private static final String LOAD_BALANCERS = PREFIX + "/lbaas/loadbalancers";
    private static final String GATEWAYS = PREFIX + "/gateways";

    private void loadBalancerRoutes() {
        router.add("POST", LOAD_BALANCERS, WRITE_QUERY, this::createLoadBalancer);
        router.add("GET", LOAD_BALANCERS, Set.of("name"), request -> {
            Optional<String> name = request.query("name");
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            ArrayNode items = body.putArray("loadbalancers");
            controller.loadBalancers().stream().filter(lb -> name.isEmpty() || lb.spec().name().equals(name.get()))
                    .forEach(lb -> items.add(Views.loadBalancer(lb)));
            return Reply.json(200, body);
        });
        router.add("GET", LOAD_BALANCERS + "/{id}", Set.of(), request -> Reply.json(200,
                Views.envelope("loadbalancer", Views.loadBalancer(findLoadBalancer(request.pathParameter("id"))))));
        router.add("DELETE", LOAD_BALANCERS + "/{id}", WRITE_QUERY, request -> {
            WaitOption wait = WaitOption.of(request);
            Change<Void> change = controller.deleteLoadBalancer(findLoadBalancer(request.pathParameter("id")).id());
            return wait.apply(controller, Reply.noContent().withHeader(VERSION_HEADER, Long.toString(change.version())));
        });
    }

    private Reply createLoadBalancer(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        JsonNode fields = request.body(RequestBodies.LoadBalancerCreate.class).loadbalancer();
        if (fields == null) {
            throw ApiError.badRequest("the body needs a 'loadbalancer' object: {\"loadbalancer\": {...}}");
        }
        LoadBalancerSpec spec;
        try {
            spec = LoadBalancerSpec.fromJson(fields);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("invalid load balancer: " + e.getMessage());
        }
        boolean existed = controller.loadBalancers().stream().anyMatch(lb -> lb.spec().name().equals(spec.name()));
        Change<LoadBalancer> change = controller.createLoadBalancer(spec);
        Reply reply = Reply.json(existed ? 200 : 201, Views.envelope("loadbalancer", Views.loadBalancer(change.value())))
                .withHeader(VERSION_HEADER, Long.toString(change.version()));
        return wait.apply(controller, reply);
    }

    private LoadBalancer findLoadBalancer(String idOrName) {
        return controller.loadBalancer(idOrName).orElseThrow(() -> new ApiError(404, "LoadBalancerNotFound", "no load balancer " + idOrName));
    }

    private void gatewayRoutes() {
        router.add("POST", GATEWAYS, WRITE_QUERY, this::createGateway);
        router.add("GET", GATEWAYS, Set.of("name"), request -> {
            Optional<String> name = request.query("name");
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            ArrayNode items = body.putArray("gateways");
            controller.gateways().stream().filter(g -> name.isEmpty() || g.spec().name().equals(name.get()))
                    .forEach(g -> items.add(Views.gateway(g)));
            return Reply.json(200, body);
        });
        router.add("GET", GATEWAYS + "/{id}", Set.of(), request -> Reply.json(200,
                Views.envelope("gateway", Views.gateway(findGateway(request.pathParameter("id"))))));
        router.add("DELETE", GATEWAYS + "/{id}", WRITE_QUERY, request -> {
            WaitOption wait = WaitOption.of(request);
            Change<Void> change = controller.deleteGateway(findGateway(request.pathParameter("id")).id());
            return wait.apply(controller, Reply.noContent().withHeader(VERSION_HEADER, Long.toString(change.version())));
        });
    }

    private Reply createGateway(ApiRequest request) {
        WaitOption wait = WaitOption.of(request);
        JsonNode fields = request.body(RequestBodies.GatewayCreate.class).gateway();
        if (fields == null) {
            throw ApiError.badRequest("the body needs a 'gateway' object: {\"gateway\": {...}}");
        }
        GatewaySpec spec;
        try {
            spec = GatewaySpec.fromJson(fields);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("invalid gateway: " + e.getMessage());
        }
        boolean existed = controller.gateway(spec.name()).isPresent();
        Change<RegisteredGateway> change = controller.createGateway(spec);
        Reply reply = Reply.json(existed ? 200 : 201, Views.envelope("gateway", Views.gateway(change.value())))
                .withHeader(VERSION_HEADER, Long.toString(change.version()));
        return wait.apply(controller, reply);
    }

    private RegisteredGateway findGateway(String idOrName) {
        return controller.gateway(idOrName).orElseThrow(() -> new ApiError(404, "GatewayNotFound", "no gateway " + idOrName));
    }

    // ---- lookups and checks (no writes) ----

    /** The resource of that kind with that id; a host also by its name. */
    private Resource find(Kind kind, String id) {
        if (kind == Kind.HOST) {
            return findHost(id);
        }
        return controller.get(id).filter(r -> r.kind() == kind).orElseThrow(() -> ApiError.notFound(kind, id));
    }

    private Resource findHost(String idOrName) {
        return controller.get(idOrName).filter(r -> r.kind() == Kind.HOST)
                .or(() -> named(Kind.HOST, null, idOrName))
                .orElseThrow(() -> ApiError.notFound(Kind.HOST, idOrName));
    }

    /** The resource of that kind and name under that owner (any owner when null: projects and hosts). */
    /** The resource named {@code name} under {@code ownerId}; null owner: one the cloud owns (a project or host). */
    private Optional<Resource> named(Kind kind, String ownerId, String name) {
        return controller.child(ownerId, kind, name);
    }

    private Resource onlySubnet(Resource network) {
        List<Resource> subnets = controller.children(network.id(), Kind.SUBNET);
        if (subnets.isEmpty()) {
            throw ApiError.conflict("network " + network.name() + " has no subnet yet; create one first");
        }
        if (subnets.size() > 1) {
            throw ApiError.badRequest("network " + network.name() + " has " + subnets.size() + " subnets; name one with fixed_ips[0].subnet_id");
        }
        return subnets.getFirst();
    }

    private static <T> T envelope(T fields, Kind kind) {
        if (fields == null) {
            throw ApiError.badRequest("the body needs a '" + kind.label() + "' object: {\"" + kind.label() + "\": {...}}");
        }
        return fields;
    }

    private static <T> T required(T value, String field) {
        if (value == null) {
            throw ApiError.badRequest("field '" + field + "' is required");
        }
        return value;
    }

    /** A write's ?wait and ?timeout, read before the write so that a bad value refuses it. */
    private record WaitOption(boolean requested, Duration timeout) {
        static WaitOption of(ApiRequest request) {
            return new WaitOption(request.flag("wait"),
                    Duration.ofSeconds(request.number("timeout", 0, MAX_SYNC_SECONDS, DEFAULT_SYNC_SECONDS)));
        }

        Reply apply(Controller controller, Reply reply) {
            if (!requested) {
                return reply;
            }
            SyncStatus status = controller.awaitApplied(Long.parseLong(reply.headers().get(VERSION_HEADER)), timeout);
            return reply.withHeader(SYNC_HEADER, status.complete() ? "complete" : "pending " + String.join(",", status.pendingHosts()));
        }
    }

    private static JsonNode loadOpenApi() {
        try (InputStream in = NorthboundApi.class.getResourceAsStream("openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is missing from the class path next to " + NorthboundApi.class.getName());
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("openapi.json is not valid JSON: " + e.getMessage(), e);
        }
    }
}
