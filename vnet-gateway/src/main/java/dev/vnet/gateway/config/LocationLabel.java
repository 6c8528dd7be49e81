package dev.vnet.gateway.config;

import java.util.regex.Pattern;

/**
 * The location label of hosts (and so of the backends they run) and of gateways: a zone, rack or site
 * name that a load balancer with locality compares; empty for "no location".
 */
public final class LocationLabel {
    public static final String NONE = "";

    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    private LocationLabel() {
    }

    /**
     * The label if it is empty or 1 to 63 of A-Z a-z 0-9 . _ - starting with a letter or digit.
     *
     * @param field how the error names it ("location", "host.location")
     */
    public static String requireValid(String field, String label) {
        if (label == null) {
            throw new IllegalArgumentException(field + " must be a string; \"\" for none");
        }
        if (!label.isEmpty() && !LABEL.matcher(label).matches()) {
            throw new IllegalArgumentException(field + " '" + label + "' is invalid: empty, or 1 to 63 of A-Z a-z 0-9 . _ -, "
                    + "starting with a letter or digit");
        }
        return label;
    }
}
