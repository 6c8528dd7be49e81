package dev.vnet.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.wire.Ipv4Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatewaySpecTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXAMPLE = "{\"name\":\"gw1\",\"address\":\"10.99.0.11\",\"port\":4790,\"location\":\"zone-a\","
            + "\"public_address\":\"198.18.0.11\"}";

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theDocumentedExampleRoundTrips() {
        GatewaySpec gateway = GatewaySpec.fromJson(json(EXAMPLE));
        assertThat(gateway).isEqualTo(new GatewaySpec("gw1", Ipv4Address.parse("10.99.0.11"), 4790, "zone-a",
                Ipv4Address.parse("198.18.0.11")));
        assertThat(gateway.toJson()).isEqualTo(json(EXAMPLE));
    }

    @Test
    void anOmittedLocationIsNone() {
        GatewaySpec gateway = GatewaySpec.fromJson(json("{\"name\":\"gw1\",\"address\":\"10.99.0.11\",\"port\":4790,"
                + "\"public_address\":\"198.18.0.11\"}"));
        assertThat(gateway.location()).isEmpty();
        assertThat(gateway.toJson().path("location").asText("x")).isEmpty();
    }

    @Test
    void seededRandomGatewaysRoundTrip() {
        Random random = new Random(4790);
        for (int i = 0; i < 500; i++) {
            GatewaySpec gateway = new GatewaySpec("gw" + i, 0x0A00_0000 | random.nextInt(1 << 24), 1 + random.nextInt(65_535),
                    random.nextBoolean() ? "" : "zone-" + random.nextInt(9), 0xC612_0000 | random.nextInt(1 << 16));
            assertThat(GatewaySpec.fromJson(gateway.toJson())).isEqualTo(gateway);
        }
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
            "{'name':'gw1','address':'10.99.0.11','port':4790,'public_address':'198.18.0.11','zone':'a'} | unknown field 'zone'",
            "{'address':'10.99.0.11','port':4790,'public_address':'198.18.0.11'} | name is required",
            "{'name':'gw 1','address':'10.99.0.11','port':4790,'public_address':'198.18.0.11'} | name 'gw 1' is invalid",
            "{'name':'gw1','port':4790,'public_address':'198.18.0.11'} | address is required",
            "{'name':'gw1','address':'10.99.0','port':4790,'public_address':'198.18.0.11'} | address '10.99.0' is not an IPv4 address",
            "{'name':'gw1','address':'224.0.0.1','port':4790,'public_address':'198.18.0.11'} | address 224.0.0.1 is not a unicast address",
            "{'name':'gw1','address':'10.99.0.11','public_address':'198.18.0.11'} | port is required",
            "{'name':'gw1','address':'10.99.0.11','port':0,'public_address':'198.18.0.11'} | port must be 1 to 65535, not 0",
            "{'name':'gw1','address':'10.99.0.11','port':'4790','public_address':'198.18.0.11'} | port must be a whole number",
            "{'name':'gw1','address':'10.99.0.11','port':4790,'location':'-a','public_address':'198.18.0.11'} | location '-a' is invalid",
            "{'name':'gw1','address':'10.99.0.11','port':4790} | public_address is required",
            "{'name':'gw1','address':'10.99.0.11','port':4790,'public_address':'0.0.0.0'} | public_address 0.0.0.0 is not a unicast address",
    })
    void invalidGatewaysAreRefusedNamingTheField(String document, String reason) {
        assertThatThrownBy(() -> GatewaySpec.fromJson(json(document.replace('\'', '"'))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
    }
}
