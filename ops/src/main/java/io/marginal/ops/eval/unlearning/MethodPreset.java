package io.marginal.ops.eval.unlearning;

import io.marginal.model.weights.Projection;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * One cell of the method comparison: a name, what it changes, and the settings it runs with. Every preset
 * starts from the same base settings (the project's defaults unless the environment overrides them) and
 * changes only what its name says.
 */
public record MethodPreset(String key, String label, UnlearningSettings settings) {

  /** Keys of {@link #all}, in table order. */
  public static final List<String> KEYS = List.of("graddiff", "npo", "refusal", "graddiff-no-u2a", "graddiff-unmasked", "reference");

  /**
   * GradDiff (the default), NPO, the refusal fine-tune, GradDiff with U2A weighting off, GradDiff unmasked, and
   * the reference repository's recipe as far as this code supports it: LoRA rank 1 on down_proj only (masks on
   * its output neurons — input-side masks on chosen layers are not implemented), SFT toward a non-target answer,
   * Adam lr 5e-5, at most 25 steps, one forget example per step.
   */
  public static List<MethodPreset> all(UnlearningSettings base) {
    return List.of(
        new MethodPreset("graddiff", "GradDiff (default: mask 25 %, U2A on)", base.withObjective("GRAD_DIFF")),
        new MethodPreset("npo", "NPO (β " + base.npoBeta() + ")", base.withObjective("NPO")),
        new MethodPreset("refusal", "refusal fine-tune", base.withObjective("REFUSAL")),
        new MethodPreset("graddiff-no-u2a", "GradDiff, U2A off", base.withObjective("GRAD_DIFF").withU2aTemperature(0)),
        new MethodPreset("graddiff-unmasked", "GradDiff, unmasked", base.withObjective("GRAD_DIFF").withMaskTopFraction(1)),
        new MethodPreset("reference", "reference recipe (down_proj, rank 1, lr 5e-5, 25 steps, batch 1, refusal)",
            base.withObjective("REFUSAL").withLora(1, 2, EnumSet.of(Projection.DOWN)).withLearningRate(5e-5).withSteps(25, 5)
                .withForgetBatch(1)));
  }

  /** The presets named in {@code csv} ("all" or e.g. "graddiff,npo"), in table order. */
  public static List<MethodPreset> select(String csv, UnlearningSettings base) {
    List<MethodPreset> all = all(base);
    if (csv == null || csv.isBlank() || csv.strip().equalsIgnoreCase("all")) {
      return all;
    }
    List<String> wanted = Arrays.stream(csv.split(",")).map(x -> x.strip().toLowerCase(Locale.ROOT)).filter(x -> !x.isEmpty()).toList();
    for (String w : wanted) {
      if (!KEYS.contains(w)) {
        throw new IllegalArgumentException("--methods: unknown method '" + w + "'; known: " + String.join(",", KEYS));
      }
    }
    return all.stream().filter(p -> wanted.contains(p.key())).toList();
  }
}
