package io.marginal.trainer.unlearning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.training.Scalars;

/**
 * Negative Preference Optimization (Zhang et al., 2024): the forget targets are treated as
 * dispreferred answers with no preferred counterpart,
 * <pre>  L = mean_i w_i · −(2/β) · log σ(−β · (logπθ(y_i|x_i) − logπref(y_i|x_i)))</pre>
 * which equals {@code (2/β)·softplus(β·Δ)}: about gradient ascent while Δ is near 0, and
 * vanishing as the target becomes much less likely than under the reference, so it saturates
 * instead of diverging. The reference is the model before this job (base + previous version).
 */
public final class NpoLoss implements ForgetObjective {

  private final float beta;

  public NpoLoss(double beta) {
    if (!(beta > 0)) {
      throw new IllegalArgumentException("NPO beta must be positive, got " + beta);
    }
    this.beta = (float) beta;
  }

  @Override
  public boolean needsReference() {
    return true;
  }

  @Override
  public NDArray loss(NDArray logProbs, float[] lengths, float[] weights, float[] reference) {
    NDManager m = logProbs.getManager();
    NDArray x = Scalars.mul(logProbs.sub(m.create(reference)), beta);
    // softplus(x) = max(x, 0) + log(1 + exp(-|x|)), stable for large |x|
    NDArray softplus = Scalars.maximum(x, 0f).add(x.abs().neg().exp().add(1f).log());
    return Scalars.mul(softplus.mul(m.create(weights)), 2f / beta).mean();
  }

  /** The same formula in double precision, for checks and reports. */
  public static double value(double logProb, double reference, double beta) {
    double x = beta * (logProb - reference);
    double logSigmoidMinusX = -Math.log1p(Math.exp(x));
    return -(2 / beta) * logSigmoidMinusX;
  }
}
