package io.marginal.model.weights;

import io.marginal.model.config.ModelConfig;

/** The seven linear projections of a Llama-family layer; LoRA can target any of them. */
public enum Projection {
  Q("self_attn", "q_proj"),
  K("self_attn", "k_proj"),
  V("self_attn", "v_proj"),
  O("self_attn", "o_proj"),
  GATE("mlp", "gate_proj"),
  UP("mlp", "up_proj"),
  DOWN("mlp", "down_proj");

  private final String block;
  private final String moduleName;

  Projection(String block, String moduleName) {
    this.block = block;
    this.moduleName = moduleName;
  }

  /** The Hugging Face / PEFT module name, e.g. {@code q_proj}. */
  public String moduleName() {
    return moduleName;
  }

  /** The path inside a layer, e.g. {@code self_attn.q_proj}. */
  public String path() {
    return block + "." + moduleName;
  }

  /** The checkpoint tensor name of this projection's weight in layer {@code layer}. */
  public String weightName(int layer) {
    return "model.layers." + layer + "." + path() + ".weight";
  }

  /** Input width of this projection. */
  public int inFeatures(ModelConfig c) {
    return switch (this) {
      case Q, K, V, GATE, UP -> c.hiddenSize();
      case O -> c.queryDim();
      case DOWN -> c.intermediateSize();
    };
  }

  /** Output width (number of output neurons) of this projection. */
  public int outFeatures(ModelConfig c) {
    return switch (this) {
      case Q -> c.queryDim();
      case K, V -> c.keyValueDim();
      case O, DOWN -> c.hiddenSize();
      case GATE, UP -> c.intermediateSize();
    };
  }

  /** Looks a projection up by its module name ({@code q_proj}) or enum name ({@code Q}). */
  public static Projection fromName(String name) {
    for (Projection p : values()) {
      if (p.moduleName.equals(name) || p.name().equalsIgnoreCase(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown projection '" + name
        + "'; expected one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
  }
}
