package io.marginal.model.lora;

import io.marginal.model.weights.Projection;

/** One adapted projection: a layer index and a projection, e.g. layer 3 {@code down_proj}. */
public record LoraTarget(int layer, Projection projection) implements Comparable<LoraTarget> {
  /** The PEFT module path, e.g. {@code base_model.model.model.layers.3.mlp.down_proj}. */
  public String peftModule() {
    return "base_model.model.model.layers." + layer + "." + projection.path();
  }

  /** Short form used in manifests and logs, e.g. {@code 3.down_proj}. */
  public String key() {
    return layer + "." + projection.moduleName();
  }

  public static LoraTarget parseKey(String key) {
    int dot = key.indexOf('.');
    if (dot < 0) {
      throw new IllegalArgumentException("bad LoRA target key '" + key + "', expected e.g. 3.down_proj");
    }
    return new LoraTarget(Integer.parseInt(key.substring(0, dot)), Projection.fromName(key.substring(dot + 1)));
  }

  @Override
  public int compareTo(LoraTarget o) {
    return layer != o.layer ? Integer.compare(layer, o.layer) : projection.compareTo(o.projection);
  }
}
