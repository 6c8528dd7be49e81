package dev.vnet.lab;

import java.nio.file.Path;

/**
 * Names of everything a lab creates. Every namespace starts with {@code vn-<lab>-}, so a lab can be
 * found and removed even when its state file is gone.
 */
public final class LabNames {
    /** Lab state lives in tmpfs: it describes kernel objects that a reboot removes anyway. */
    public static final Path LABS_DIR = Path.of("/run/vnet/labs");
    public static final String UNDERLAY_DEVICE = "underlay0";
    public static final String BRIDGE = "br0";
    public static final String VM_NIC = "eth0";
    /** The clients' NIC in the public namespace. */
    public static final String CLIENT_NIC = "eth0";
    /** The public router's NIC toward the clients. */
    public static final String ROUTER_PUBLIC_DEVICE = "clients0";
    /** A gateway namespace's NIC toward the public router. */
    public static final String GATEWAY_PUBLIC_DEVICE = "public0";

    private LabNames() {
    }

    public static String prefix(String lab) {
        return "vn-" + lab + "-";
    }

    public static String fabricNamespace(String lab) {
        return prefix(lab) + "fabric";
    }

    public static String hostNamespace(String lab, String host) {
        return prefix(lab) + "h-" + host;
    }

    /** A load-balancing gateway's namespace: on the underlay like a host, and linked to the public router. */
    public static String gatewayNamespace(String lab, String gateway) {
        return prefix(lab) + "g-" + gateway;
    }

    /** The public side's clients: one namespace whose default route is the public router. */
    public static String publicNamespace(String lab) {
        return prefix(lab) + "pub";
    }

    /** The public router: between the clients and the gateways, it spreads the VIP prefix over them (ECMP). */
    public static String routerNamespace(String lab) {
        return prefix(lab) + "rtr";
    }

    /** The public router's device toward gateway {@code index} (1-based, in topology order). */
    public static String routerGatewayDevice(int index) {
        return "g" + index;
    }

    /** Where gateway {@code gateway} writes its status (JSON, with {@code "state":"running"} once it serves). */
    public static Path gatewayStatusFile(String lab, String gateway) {
        return labDir(lab).resolve("gw-" + gateway + ".status.json");
    }

    public static Path gatewayLog(String lab, String gateway) {
        return labDir(lab).resolve("gw-" + gateway + ".log");
    }

    public static String vmNamespace(String lab, String vm) {
        return vmNamespacePrefix(lab) + vm;
    }

    public static Path labDir(String lab) {
        return LABS_DIR.resolve(lab);
    }

    public static Path countersFile(String lab, String host) {
        return labDir(lab).resolve(host + ".counters");
    }

    public static Path agentLog(String lab, String host) {
        return labDir(lab).resolve(host + ".log");
    }

    public static String controllerNamespace(String lab) {
        return prefix(lab) + "ctl";
    }

    /** Controller node {@code index} (0-based) of a lab with several: node 0 is the single controller's namespace. */
    public static String controllerNamespace(String lab, int index) {
        return index == 0 ? controllerNamespace(lab) : prefix(lab) + "ctl" + (index + 1);
    }

    /** The id of controller node {@code index}, as {@code vnet controller --node-id} takes it. */
    public static String controllerNodeId(int index) {
        return "ctl" + (index + 1);
    }

    public static Path controllerSocket(String lab, int index) {
        return index == 0 ? controllerSocket(lab) : labDir(lab).resolve("controller" + (index + 1) + ".sock");
    }

    public static Path controllerLog(String lab, int index) {
        return index == 0 ? controllerLog(lab) : labDir(lab).resolve("controller" + (index + 1) + ".log");
    }

    /** The etcd member a lab with several controller nodes keeps their store in. */
    public static Path etcdDir(String lab) {
        return labDir(lab).resolve("etcd");
    }

    public static Path etcdLog(String lab) {
        return labDir(lab).resolve("etcd.log");
    }

    /** Where each agent's routes are written after every change it applies, for tests and operators. */
    /** The socket offload policies of the lab's VMs ({@code VM.json}, docs/vsock.md), read by every agent. */
    public static Path vsockPolicyDir(String lab) {
        return labDir(lab).resolve("vsock");
    }

    /** Where host {@code host}'s agent writes its socket devices' counters. */
    public static Path vsockStatusFile(String lab, String host) {
        return labDir(lab).resolve(host + ".vsock.json");
    }

    public static Path routesFile(String lab, String host) {
        return labDir(lab).resolve(host + ".routes.json");
    }

    /** What every VM namespace's name starts with; the agents name the namespaces they create so. */
    public static String vmNamespacePrefix(String lab) {
        return prefix(lab) + "v-";
    }

    /** The lab's CA, the controller's and every host's certificate and key. */
    public static Path pkiDir(String lab) {
        return labDir(lab).resolve("pki");
    }

    /** The controller's REST API socket: reachable from the root namespace, where the lab command runs. */
    public static Path controllerSocket(String lab) {
        return labDir(lab).resolve("controller.sock");
    }

    /** The controller's REST API as an endpoint for {@code ApiClient} and {@code vnet --controller}. */
    public static String controllerEndpoint(String lab) {
        return "unix:" + controllerSocket(lab);
    }

    public static Path controllerStore(String lab) {
        return labDir(lab).resolve("controller-store");
    }

    public static Path controllerLog(String lab) {
        return labDir(lab).resolve("controller.log");
    }
}
