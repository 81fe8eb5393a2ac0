package io.marginal.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marginal.inference.config.InferenceConfig;
import io.marginal.streams.app.StreamsAppConfig;
import io.marginal.trainer.config.TrainerConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The services are configured separately; the names they must agree on have to agree by default. */
class ServiceDefaultsAgreeTest {

  @Test
  void everyServiceNamesTheSameBaseModelByDefault() {
    String inference = InferenceConfig.from(Map.of()).modelId();
    assertEquals("marginal-demo", inference);
    assertEquals(inference, TrainerConfig.fromEnvironment(Map.of()).baseModel());
    assertEquals(inference, StreamsAppConfig.from(Map.of()).bank().baseModel());
  }

  @Test
  void oneEnvironmentVariableMovesThemAllTogether() {
    Map<String, String> env = Map.of("MARGINAL_BASE_MODEL", "qwen2-0.5b");
    assertEquals("qwen2-0.5b", InferenceConfig.from(env).modelId());
    assertEquals("qwen2-0.5b", TrainerConfig.fromEnvironment(env).baseModel());
    assertEquals("qwen2-0.5b", StreamsAppConfig.from(env).bank().baseModel());
  }
}
