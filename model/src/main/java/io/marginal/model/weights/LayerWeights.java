package io.marginal.model.weights;

import ai.djl.ndarray.NDArray;

/**
 * One decoder layer's tensors, in checkpoint layout: projection weights are {@code [out, in]};
 * q/k/v biases are {@code null} unless the architecture has them (Qwen2, Llama with
 * {@code attention_bias}); the o_proj bias only with Llama's {@code attention_bias}.
 */
public record LayerWeights(
    NDArray attentionNorm,
    NDArray wq, NDArray wk, NDArray wv, NDArray wo,
    NDArray bq, NDArray bk, NDArray bv, NDArray bo,
    NDArray ffnNorm,
    NDArray wGate, NDArray wUp, NDArray wDown) {

  /** A layer without an o_proj bias. */
  public LayerWeights(NDArray attentionNorm, NDArray wq, NDArray wk, NDArray wv, NDArray wo, NDArray bq, NDArray bk,
      NDArray bv, NDArray ffnNorm, NDArray wGate, NDArray wUp, NDArray wDown) {
    this(attentionNorm, wq, wk, wv, wo, bq, bk, bv, null, ffnNorm, wGate, wUp, wDown);
  }

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
      case O -> bo;
      default -> null;
    };
  }
}
