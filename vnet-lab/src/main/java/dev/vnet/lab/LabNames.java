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

    public static String vmNamespace(String lab, String vm) {
        return prefix(lab) + "v-" + vm;
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

    public static String registryNamespace(String lab) {
        return prefix(lab) + "registry";
    }

    /** The lab's CA, the registry's and every host's certificate and key. */
    public static Path pkiDir(String lab) {
        return labDir(lab).resolve("pki");
    }

    public static Path attachmentsFile(String lab, String host) {
        return labDir(lab).resolve(host + ".attachments.json");
    }

    /** The registry's admin socket: reachable from the root namespace, where the lab command runs. */
    public static Path registrySocket(String lab) {
        return labDir(lab).resolve("registry.sock");
    }

    /** The controller's API socket, in the lab's directory so the CLI in the root namespace reaches it. */
    public static Path controllerSocket(String lab) {
        return labDir(lab).resolve("controller.sock");
    }

    public static Path registryStore(String lab) {
        return labDir(lab).resolve("registry-store");
    }

    public static Path registryLog(String lab) {
        return labDir(lab).resolve("registry.log");
    }
}
