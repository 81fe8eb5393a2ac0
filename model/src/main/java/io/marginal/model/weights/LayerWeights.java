package io.marginal.model.weights;

import ai.djl.ndarray.NDArray;

/**
 * One decoder layer's tensors, in checkpoint layout: projection weights are {@code [out, in]};
 * q/k/v biases are {@code null} unless the architecture has them (Qwen2).
 */
public record LayerWeights(
    NDArray attentionNorm,
    NDArray wq, NDArray wk, NDArray wv, NDArray wo,
    NDArray bq, NDArray bk, NDArray bv,
    NDArray ffnNorm,
    NDArray wGate, NDArray wUp, NDArray wDown) {

  public NDArray weight(Projection p) {
    return switch (p) {
      case Q -> wq;
      case K -> wk;
      case V -> wv;
      case O -> wo;
      case GATE -> wGate;
      case UP -> wUp;
      case DOWN -> wDown;
    };
  }

  /** The bias of {@code p}, or {@code null}. */
  public NDArray bias(Projection p) {
    return switch (p) {
      case Q -> bq;
      case K -> bk;
      case V -> bv;
      default -> null;
    };
  }
}
