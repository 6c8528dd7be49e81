package dev.vnet.registry;

import dev.vnet.wire.Ipv4Address;

/**
 * Checks of the names and addresses that arrive in requests. Names become parts of store keys
 * ({@code vms/<name>}, {@code rules/<source>/<destination>}), so they may not contain '/'; host names are
 * certificate CNs, so dots and dashes are allowed.
 */
final class Names {
    static final int MAX_LENGTH = 64;

    private Names() {
    }

    /** @return {@code name}, or throws INVALID_ARGUMENT naming what it was meant to be */
    static String check(String what, String name) {
        if (name == null || name.isEmpty()) {
            throw RegistryException.invalid(what + " name is empty");
        }
        boolean valid = name.length() <= MAX_LENGTH && isLetterOrDigit(name.charAt(0));
        for (int i = 1; valid && i < name.length(); i++) {
            char c = name.charAt(i);
            valid = isLetterOrDigit(c) || c == '.' || c == '_' || c == '-';
        }
        if (!valid) {
            throw RegistryException.invalid(what + " name '" + name + "' is invalid: use 1-" + MAX_LENGTH
                    + " characters of A-Z a-z 0-9 . _ - starting with a letter or digit");
        }
        return name;
    }

    /** A host or gateway identity: a valid name that is not the administrator's. */
    static String checkIdentity(String what, String name) {
        check(what, name);
        if (name.equals(RegistryService.ADMIN_IDENTITY)) {
            throw RegistryException.invalid("'" + RegistryService.ADMIN_IDENTITY + "' is the administrator's identity; it cannot be a " + what + " name");
        }
        return name;
    }

    /** An address a host can be reached at: not 0.0.0.0, multicast or broadcast. */
    static int unicastAddress(String what, String text) {
        int address = address(what, text);
        if (!isUnicast(address)) {
            throw RegistryException.invalid(what + " " + text + " is not a unicast address");
        }
        return address;
    }

    /** Not 0.0.0.0, and below the multicast range (224.0.0.0 up, which also holds the broadcast address). */
    static boolean isUnicast(int address) {
        return address != 0 && Integer.compareUnsigned(address, 0xE000_0000) < 0;
    }

    static int address(String what, String text) {
        try {
            return Ipv4Address.parse(text);
        } catch (IllegalArgumentException e) {
            throw RegistryException.invalid(what + ": " + e.getMessage());
        }
    }

    /** A unicast MAC (the group bit clear, not all zeros). */
    static long unicastMac(String what, String text) {
        long mac;
        try {
            mac = dev.vnet.wire.MacAddress.parse(text);
        } catch (IllegalArgumentException e) {
            throw RegistryException.invalid(what + ": " + e.getMessage());
        }
        if (mac == 0 || (mac & 0x0100_0000_0000L) != 0) {
            throw RegistryException.invalid(what + " " + text + " is not a unicast MAC");
        }
        return mac;
    }

    static Subnet subnet(String text) {
        try {
            return Subnet.parse(text);
        } catch (IllegalArgumentException e) {
            throw RegistryException.invalid(e.getMessage());
        }
    }

    static int port(String what, long port) {
        if (port < 1 || port > 65535) {
            throw RegistryException.invalid(what + " " + port + " is not a UDP port (1-65535)");
        }
        return (int) port;
    }

    private static boolean isLetterOrDigit(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }
}
