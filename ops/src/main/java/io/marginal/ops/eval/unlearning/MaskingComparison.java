package io.marginal.ops.eval.unlearning;

import io.marginal.trainer.unlearning.Metrics;
import java.util.List;
import java.util.Map;

/**
 * One concept forgotten by adapters that differ only in their neuron mask (the fraction of each module's
 * output neurons the update may touch; 1 = unmasked LoRA), all trained to the same stopping point.
 *
 * @param concept  what was forgotten
 * @param variants in the order they were run; every variant's metrics hold the base figures under
 *                 {@code key + Metrics.BEFORE}
 */
public record MaskingComparison(String concept, List<Variant> variants) {

  public MaskingComparison {
    if (variants.isEmpty()) {
      throw new IllegalArgumentException("a comparison needs at least one variant");
    }
    variants = List.copyOf(variants);
  }

  /** One adapter: its mask fraction and the job's metrics ({@link Metrics} keys). */
  public record Variant(double maskFraction, Map<String, Double> metrics) {

    public Variant {
      metrics = Map.copyOf(metrics);
    }

    public boolean masked() {
      return maskFraction < 1;
    }

    /** "masked LoRA (top 25%)" or "unmasked LoRA". */
    public String label() {
      return masked() ? String.format("masked LoRA (top %.0f%%)", 100 * maskFraction) : "unmasked LoRA";
    }

    /** A figure after unlearning, or null when the job did not report it. */
    public Double after(String key) {
      return metrics.get(key);
    }

    /** The same figure for the base model (before unlearning). */
    public Double before(String key) {
      return metrics.get(key + Metrics.BEFORE);
    }
  }

  /** The base model's figure of {@code key} (taken from the first variant; every variant measured the same base). */
  public Double base(String key) {
    return variants.get(0).before(key);
  }

  /** The base model's retain accuracy (it is measured against expected answers, so it need not be 100 %). */
  public Double baseRetainAccuracy() {
    return variants.get(0).after(Metrics.RETAIN_ACCURACY_BASE);
  }
}
