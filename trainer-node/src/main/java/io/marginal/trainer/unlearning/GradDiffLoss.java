package io.marginal.trainer.unlearning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.training.Scalars;

/**
 * Gradient ascent on the forget targets (GradDiff's forget half):
 * {@code mean_i w_i · max(logπθ(y_i|x_i)/|y_i|, floor)}. Minimising it lowers each target's mean
 * per-token log-probability until it falls below {@code floor}, where the gradient stops: plain
 * ascent is unbounded and, once the concept is gone, only damages the rest of the model.
 */
public final class GradDiffLoss implements ForgetObjective {

  private final float floor;

  public GradDiffLoss(double floor) {
    this.floor = (float) floor;
  }

  @Override
  public NDArray loss(NDArray logProbs, float[] lengths, float[] weights, float[] reference) {
    NDManager m = logProbs.getManager();
    NDArray perToken = logProbs.div(m.create(lengths));
    return Scalars.maximum(perToken, floor).mul(m.create(weights)).mean();
  }
}
