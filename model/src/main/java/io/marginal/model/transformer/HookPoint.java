package io.marginal.model.transformer;

import io.marginal.model.weights.Projection;

/** Places in a layer where a {@link ModuleHook} sees (and may replace) an activation. */
public enum HookPoint {
  /** Projection outputs, after any adapter delta: {@code [B, T, out]}. */
  Q, K, V, O, GATE, UP, DOWN,
  /** The MLP's hidden neurons, {@code silu(gate) * up}, the input of down_proj: {@code [B, T, intermediate]}. */
  MLP_ACTIVATION,
  /** The residual stream after the layer: {@code [B, T, hidden]}. */
  LAYER_OUTPUT;

  public static HookPoint of(Projection p) {
    return values()[p.ordinal()];
  }
}
