package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import io.marginal.model.config.HiddenActivation;
import io.marginal.model.training.Scalars;

/**
 * The MLP activations as NDArray operations, safe under autograd (scalars through
 * {@link Scalars}, see its javadoc). Each is the formula transformers' {@code ACT2FN} uses.
 */
final class MlpActivation {
  private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
  private static final float INV_SQRT_2 = (float) (1.0 / Math.sqrt(2.0));

  private MlpActivation() {}

  static NDArray apply(HiddenActivation activation, NDArray x) {
    return switch (activation) {
      case SILU -> Scalars.silu(x);
      case GELU -> Scalars.mul(x, 0.5f).mul(Scalars.mul(x, INV_SQRT_2).erf().add(Scalars.like(x, 1f)));
      case GELU_TANH -> {
        NDArray inner = Scalars.mul(x.add(Scalars.mul(x.mul(x).mul(x), 0.044715f)), SQRT_2_OVER_PI);
        yield Scalars.mul(x, 0.5f).mul(inner.tanh().add(Scalars.like(x, 1f)));
      }
      case RELU -> x.getNDArrayInternal().relu();
    };
  }
}
