package io.marginal.inference.api;

import io.marginal.model.config.GenerationDefaults;

/**
 * What a chat request that names no {@code temperature} / {@code top_p} samples with: the checkpoint's
 * {@code generation_config.json} when it gives them (as vLLM does with {@code --generation-config auto}),
 * else OpenAI's defaults (1.0 and 1.0). A checkpoint with {@code do_sample: false} decodes greedily
 * (temperature 0), as {@code transformers}' {@code generate} does. Values a request sends always win.
 */
record SamplingDefaults(double temperature, double topP) {

  static final SamplingDefaults OPENAI = new SamplingDefaults(1.0, 1.0);

  static SamplingDefaults of(GenerationDefaults checkpoint) {
    if (checkpoint.doSample().isPresent() && !checkpoint.doSample().get()) {
      return new SamplingDefaults(0.0, checkpoint.topP().map(SamplingDefaults::topP).orElse(1.0));
    }
    return new SamplingDefaults(checkpoint.temperature().map(t -> Math.max(0, Math.min(2, t))).orElse(1.0),
        checkpoint.topP().map(SamplingDefaults::topP).orElse(1.0));
  }

  /** top_p outside (0, 1] in a config file means "no nucleus cut". */
  private static double topP(double p) {
    return p > 0 && p <= 1 ? p : 1.0;
  }
}
