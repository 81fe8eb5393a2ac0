package io.marginal.trainer.unlearning;

import ai.djl.ndarray.NDArray;
import io.marginal.model.scoring.Continuation;

/**
 * The forget half of an unlearning loss. The retain half (mean per-token NLL of the retain set,
 * weighted by λ) is the same for every objective and is added by the trainer.
 */
public interface ForgetObjective {

  /** The sequence whose log-probability the loss needs for {@code target}. */
  default Continuation sequence(ForgetTarget target) {
    return target.sequence();
  }

  /** Whether {@link #loss} needs reference log-probabilities (from the model before this job). */
  default boolean needsReference() {
    return false;
  }

  /**
   * @param logProbs  {@code [N]} summed log-probabilities of {@link #sequence} under the model being trained
   * @param lengths   tokens of each sequence's scored part
   * @param weights   per-example weights (U2A × request weight), mean about 1
   * @param reference reference log-probabilities (NPO), or null
   * @return a scalar to minimise
   */
  NDArray loss(NDArray logProbs, float[] lengths, float[] weights, float[] reference);

  /** The objective named by a request ({@code GRAD_DIFF}, {@code NPO}, {@code REFUSAL}). */
  static ForgetObjective named(String name, UnlearningSettings settings) {
    return switch (name) {
      case "GRAD_DIFF" -> new GradDiffLoss(settings.ascentFloor());
      case "NPO" -> new NpoLoss(settings.npoBeta());
      case "REFUSAL" -> new RefusalLoss(settings.refusalAnswer());
      default -> throw new IllegalArgumentException("unknown objective '" + name + "'; use GRAD_DIFF, NPO or REFUSAL");
    };
  }
}
