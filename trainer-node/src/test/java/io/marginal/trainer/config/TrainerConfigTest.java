package io.marginal.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.marginal.trainer.unlearning.UnlearningSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerConfigTest {

  @Test
  void defaultsRunTheEmbeddedDemo() {
    TrainerConfig c = TrainerConfig.fromEnvironment(Map.of());
    assertEquals("localhost:9092", c.bootstrapServers());
    assertEquals("marginal-trainer", c.groupId());
    assertEquals(Path.of("var/adapters"), c.adapterStore());
    assertEquals(Duration.ofMinutes(30), c.maxJobDuration());
    assertEquals("marginal-demo", c.baseModel());
  }

  @Test
  void aPropertiesFileIsOverriddenByTheEnvironment(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("trainer.properties");
    Files.writeString(file, "MARGINAL_TRAINER_GROUP=from-file\nMARGINAL_TRAINER_MAX_JOB=PT5M\nMARGINAL_KAFKA_SECURITY_PROTOCOL=SSL\n");
    TrainerConfig c = TrainerConfig.fromEnvironment(Map.of(TrainerConfig.CONFIG_FILE_KEY, file.toString(),
        "MARGINAL_TRAINER_MAX_JOB", "PT10M"));
    assertEquals("from-file", c.groupId());
    assertEquals(Duration.ofMinutes(10), c.maxJobDuration());
    assertEquals(Map.of("security.protocol", "SSL"), c.clientSecurity());
  }

  @Test
  void badValuesNameTheKey() {
    assertEquals("MARGINAL_TRAINER_MAX_JOB must be an ISO-8601 duration such as PT30S, got '30m'",
        assertThrows(IllegalArgumentException.class, () -> TrainerConfig.fromEnvironment(Map.of("MARGINAL_TRAINER_MAX_JOB", "30m")))
            .getMessage());
    assertEquals("MARGINAL_UNLEARN_STEPS must be an integer, got 'many'",
        assertThrows(IllegalArgumentException.class, () -> UnlearningSettings.fromEnvironment(Map.of("MARGINAL_UNLEARN_STEPS", "many")))
            .getMessage());
  }
}
