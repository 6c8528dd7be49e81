package dev.vnet.vsock.mapper;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Locale;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property: for any valid URI, however it is spelled, the canonical form reads back as the same
 * URI and is its own canonical form. The inputs are spelled the ways canonicalisation must undo:
 * mixed case, trailing dots, uncompressed or mapped IPv6, an explicit port 80, dot segments and
 * escapes of unreserved characters.
 */
class SocketUriRoundTripTest {
    private static final int URIS_PER_SEED = 2_000;
    private static final String UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
    private static final String PATH_CHARACTERS = UNRESERVED + "!$&'()*+,;=:@";

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 7, 42, 2024, 0x5eed_cafeL})
    void canonicalFormRoundTrips(long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < URIS_PER_SEED; i++) {
            String spelled = uri(random);
            SocketUri uri = SocketUri.parse(spelled);
            String canonical = uri.toString();

            SocketUri reread = SocketUri.parse(canonical);
            assertThat(reread).as("%s read as %s", spelled, canonical).isEqualTo(uri);
            assertThat(reread.toString()).isEqualTo(canonical);
            assertThat(reread.scheme()).isEqualTo(uri.scheme());
            assertThat(reread.host()).isEqualTo(uri.host());
            assertThat(reread.port()).isEqualTo(uri.port());
            assertThat(reread.path()).isEqualTo(uri.path());
        }
    }

    private static String uri(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> scheme("tcp", random) + "://" + host(random) + ":" + port(random);
            case 1 -> scheme("udp", random) + "://" + host(random) + ":" + port(random);
            case 2 -> scheme("dns", random) + "://" + name(random);
            default -> scheme("http", random) + "://" + host(random)
                    + (random.nextBoolean() ? "" : ":" + (random.nextBoolean() ? 80 : port(random))) + path(random);
        };
    }

    private static String scheme(String scheme, Random random) {
        return random.nextBoolean() ? scheme : scheme.toUpperCase(Locale.ROOT);
    }

    private static int port(Random random) {
        return 1 + random.nextInt(65535);
    }

    private static String host(Random random) {
        return switch (random.nextInt(3)) {
            case 0 -> random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256);
            case 1 -> "[" + ipv6(random) + "]";
            default -> name(random);
        };
    }

    /** Eight groups, many of them zero so that runs compress; sometimes IPv4-mapped. */
    private static String ipv6(Random random) {
        if (random.nextInt(8) == 0) {
            return "::ffff:" + random.nextInt(256) + "." + random.nextInt(256) + ".0." + random.nextInt(256);
        }
        StringBuilder text = new StringBuilder();
        for (int group = 0; group < 8; group++) {
            int value = random.nextInt(3) == 0 ? random.nextInt(0x10000) : 0;
            text.append(group == 0 ? "" : ":").append(String.format(random.nextBoolean() ? "%x" : "%04X", value));
        }
        return text.toString();
    }

    private static String name(Random random) {
        StringBuilder name = new StringBuilder();
        int labels = 1 + random.nextInt(4);
        for (int label = 0; label < labels; label++) {
            int length = 1 + random.nextInt(label == labels - 1 ? 10 : 63);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < length; i++) {
                boolean inside = i > 0 && i < length - 1;
                String alphabet = inside ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
                        : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            name.append(label == 0 ? "" : ".").append(text);
        }
        return name + (random.nextInt(5) == 0 ? "." : "");
    }

    private static String path(Random random) {
        if (random.nextInt(6) == 0) {
            return "";
        }
        StringBuilder path = new StringBuilder();
        int segments = random.nextInt(6);
        for (int segment = 0; segment < segments; segment++) {
            path.append('/');
            switch (random.nextInt(6)) {
                case 0 -> path.append('.');
                case 1 -> path.append("..");
                case 2 -> path.append("%2e%2E");
                default -> {
                    int length = random.nextInt(8);
                    for (int i = 0; i < length; i++) {
                        path.append(pathCharacter(random));
                    }
                }
            }
        }
        path.append('/');
        if (random.nextBoolean()) {
            path.append('?');
            int length = random.nextInt(12);
            for (int i = 0; i < length; i++) {
                path.append(random.nextInt(10) == 0 ? (random.nextBoolean() ? "/" : "?") : pathCharacter(random));
            }
        }
        return path.toString();
    }

    /** A plain character or a percent escape, of an unreserved character (decoded) or another (kept). */
    private static String pathCharacter(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> String.format(random.nextBoolean() ? "%%%02x" : "%%%02X", random.nextInt(256));
            default -> String.valueOf(PATH_CHARACTERS.charAt(random.nextInt(PATH_CHARACTERS.length())));
        };
    }
}
