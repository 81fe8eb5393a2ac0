package io.marginal.model.config;

import io.marginal.model.CheckpointException;
import java.util.List;

/**
 * The MLP activation named by {@code hidden_act} in {@code config.json}, with the names
 * {@code transformers}' {@code ACT2FN} gives each function. Anything else is refused by name rather
 * than silently run as SiLU.
 */
public enum HiddenActivation {
  /** {@code x · sigmoid(x)} ({@code silu}, {@code swish}). */
  SILU(List.of("silu", "swish")),
  /** Exact GELU, {@code 0.5·x·(1 + erf(x/√2))} ({@code gelu}). */
  GELU(List.of("gelu")),
  /**
   * Tanh-approximated GELU, {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}: transformers'
   * {@code gelu_pytorch_tanh} and {@code gelu_new} compute this same formula.
   */
  GELU_TANH(List.of("gelu_pytorch_tanh", "gelu_new")),
  /** {@code max(0, x)} ({@code relu}). */
  RELU(List.of("relu"));

  private final List<String> hfNames;

  HiddenActivation(List<String> hfNames) {
    this.hfNames = hfNames;
  }

  /** The {@code hidden_act} values that mean this function. */
  public List<String> hfNames() {
    return hfNames;
  }

  /** The function {@code hidden_act} names. */
  public static HiddenActivation fromHfName(String name) {
    for (HiddenActivation a : values()) {
      if (a.hfNames.contains(name)) {
        return a;
      }
    }
    throw new CheckpointException("config.json: unsupported hidden_act '" + name + "'; supported: silu, swish, gelu,"
        + " gelu_pytorch_tanh, gelu_new, relu (as transformers defines them)");
  }
}
