package dev.vnet.bgp.wire;

import java.util.Random;

/** The codec tests' random routes, for tests in other packages. */
public final class BgpCodecTestAccess {
    private BgpCodecTestAccess() {
    }

    public static PathAttributes randomAttributes(Random random) {
        return BgpCodecTest.randomAttributes(random);
    }

    public static VpnNlriList randomNlri(Random random, int count) {
        return BgpCodecTest.randomNlri(random, count);
    }
}
