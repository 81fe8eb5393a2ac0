package io.marginal.inference.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marginal.model.config.GenerationDefaults;
import org.junit.jupiter.api.Test;

class SamplingDefaultsTest {

  @Test
  void theCheckpointsGenerationConfigGivesTheDefaults() {
    SamplingDefaults d = SamplingDefaults.of(GenerationDefaults.parse("{\"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9}"));
    assertEquals(0.6, d.temperature(), 1e-12);
    assertEquals(0.9, d.topP(), 1e-12);
  }

  @Test
  void withoutAGenerationConfigOpenAisDefaultsHold() {
    assertEquals(SamplingDefaults.OPENAI, SamplingDefaults.of(GenerationDefaults.NONE));
    assertEquals(SamplingDefaults.OPENAI, SamplingDefaults.of(GenerationDefaults.parse("{\"eos_token_id\": [2]}")));
  }

  @Test
  void doSampleFalseIsGreedyAndOutOfRangeValuesAreBounded() {
    assertEquals(0.0, SamplingDefaults.of(GenerationDefaults.parse("{\"do_sample\": false, \"temperature\": 0.7}")).temperature());
    SamplingDefaults odd = SamplingDefaults.of(GenerationDefaults.parse("{\"temperature\": 5, \"top_p\": 0}"));
    assertEquals(2.0, odd.temperature());
    assertEquals(1.0, odd.topP());
  }
}
