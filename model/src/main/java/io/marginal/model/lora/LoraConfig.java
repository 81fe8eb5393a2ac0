package io.marginal.model.lora;

import io.marginal.model.weights.Projection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Hyper-parameters of a LoRA adapter, as in PEFT's {@code LoraConfig}.
 *
 * @param rank {@code r}
 * @param alpha {@code lora_alpha}; the update is scaled by {@code alpha / rank} ({@code alpha / sqrt(rank)} with rsLora)
 * @param dropout {@code lora_dropout}, applied to the adapter's input while training
 * @param targets projections that get an adapter ({@code target_modules})
 * @param layers layers that get an adapter ({@code layers_to_transform}); empty means all
 * @param rsLora {@code use_rslora}
 */
public record LoraConfig(int rank, double alpha, double dropout, Set<Projection> targets, List<Integer> layers, boolean rsLora) {
  public LoraConfig {
    if (rank <= 0) {
      throw new IllegalArgumentException("LoRA rank must be positive, got " + rank);
    }
    if (dropout < 0 || dropout >= 1) {
      throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
    }
    if (targets == null || targets.isEmpty()) {
      throw new IllegalArgumentException("LoRA needs at least one target projection");
    }
    targets = Set.copyOf(EnumSet.copyOf(targets));
    layers = layers == null ? List.of() : List.copyOf(layers);
  }

  /** rank, alpha, dropout on the given projections of every layer. */
  public static LoraConfig of(int rank, double alpha, double dropout, Projection... targets) {
    return new LoraConfig(rank, alpha, dropout, EnumSet.copyOf(List.of(targets)), List.of(), false);
  }

  /** Every projection: q, k, v, o, gate, up, down. */
  public static LoraConfig allProjections(int rank, double alpha, double dropout) {
    return of(rank, alpha, dropout, Projection.values());
  }

  public double scaling() {
    return rsLora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  public boolean appliesTo(int layer) {
    return layers.isEmpty() || layers.contains(layer);
  }
}
