package io.marginal.inference.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InferenceConfigTest {

  @Test
  void defaultsRunTheEmbeddedDemoWithDemoKeys() {
    InferenceConfig c = InferenceConfig.from(Map.of());
    assertEquals(8080, c.httpPort());
    assertEquals("localhost:9092", c.bootstrapServers());
    assertNull(c.modelDir(), "null = the demo model");
    assertEquals("marginal-demo", c.modelId());
    assertTrue(c.demoKeys());
    assertEquals("alice", c.apiKeys().get("demo-key-alice"));
    assertEquals(Duration.ofSeconds(60), c.requestTimeout());
    assertTrue(c.mergeSharedAdapters(), "shared adapters merged into the batch weights by default");
    assertFalse(c.with(Map.of("MARGINAL_MERGE_SHARED_ADAPTERS", "false")).mergeSharedAdapters());
    assertEquals(1L << 30, c.mergeSharedMaxBytes());
    assertEquals(64L << 20, c.with(Map.of("MARGINAL_MERGE_SHARED_MAX_BYTES", "64m")).mergeSharedMaxBytes());
  }

  @Test
  void environmentOverridesTheFileAndSecretsAreMaskedWhenPrinted(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "MARGINAL_HTTP_PORT=9000\nMARGINAL_WORKER_THREADS=3\n");
    Path keys = dir.resolve("keys.properties");
    Files.writeString(keys, "sk-file-secret-abcdef=carol\n");
    InferenceConfig c = InferenceConfig.from(Map.of("MARGINAL_INFERENCE_CONFIG", file.toString(), "MARGINAL_HTTP_PORT", "9100",
        "MARGINAL_API_KEYS_FILE", keys.toString(), "MARGINAL_API_KEYS", "sk-inline-secret-123456:dave",
        "MARGINAL_ADMIN_KEY", "sk-admin-very-secret", "MARGINAL_KAFKA_SASL_JAAS_CONFIG", "user=x password=hunter2"));
    assertEquals(9100, c.httpPort());
    assertEquals(3, c.workerThreads());
    assertEquals(Map.of("sk-file-secret-abcdef", "carol", "sk-inline-secret-123456", "dave"), c.apiKeys());
    assertFalse(c.demoKeys());
    assertEquals("user=x password=hunter2", c.clientSecurity().get("sasl.jaas.config"));
    String printed = c.toString();
    for (String secret : new String[] {"sk-file-secret-abcdef", "sk-inline-secret-123456", "sk-admin-very-secret", "hunter2"}) {
      assertFalse(printed.contains(secret), "printed config leaks " + secret + ": " + printed);
    }
    assertTrue(printed.contains("→carol"));
    assertEquals(c.toEnvironment(), InferenceConfig.from(c.toEnvironment()).toEnvironment(), "round trip");
  }

  @Test
  void badValuesSayWhichKeyAndWhatIsExpected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> InferenceConfig.from(Map.of("MARGINAL_QUEUE_CAPACITY", "lots")));
    assertEquals("MARGINAL_QUEUE_CAPACITY must be an integer, got 'lots'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> InferenceConfig.from(Map.of("MARGINAL_API_KEYS", "nocolon")));
    assertTrue(e.getMessage().contains("is not key:user"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> InferenceConfig.from(Map.of("MARGINAL_REQUEST_TIMEOUT", "60")));
    assertTrue(e.getMessage().contains("ISO-8601 duration such as PT30S"), e.getMessage());
  }
}
