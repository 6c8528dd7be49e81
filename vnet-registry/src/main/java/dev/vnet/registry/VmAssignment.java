package dev.vnet.registry;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A VM as its own host's agent receives it: everything the agent needs to serve it, including the key
 * it verifies incoming tokens with. The key is never printed.
 */
public record VmAssignment(Vm vm, Subnet subnet, byte[] key) {
    public VmAssignment {
        key = key.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof VmAssignment that && vm.equals(that.vm) && subnet.equals(that.subnet) && Arrays.equals(key, that.key);
    }

    @Override
    public int hashCode() {
        return vm.hashCode() * 31 + Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "VmAssignment[" + vm + " " + subnet + " key=" + KeyFingerprint.of(key) + "]";
    }

    /** A short, one-way label of a key for logs: enough to tell two keys apart, useless to forge tokens. */
    static final class KeyFingerprint {
        private KeyFingerprint() {
        }

        static String of(byte[] key) {
            try {
                byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(key);
                return "sha256:" + HexFormat.of().formatHex(digest, 0, 4);
            } catch (java.security.NoSuchAlgorithmException e) {
                return "?";
            }
        }
    }
}
