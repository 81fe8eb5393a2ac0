package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import io.marginal.model.weights.Projection;

/**
 * Adds a low-rank (or any) update to a projection's output. The transformer knows nothing about
 * LoRA; {@code io.marginal.model.lora.ActiveAdapters} implements this.
 */
public interface ProjectionAdapter {
  ProjectionAdapter NONE = (layer, projection, input, training) -> null;

  /**
   * The update to add to {@code projection}'s output in {@code layer}, computed from the
   * projection's {@code input}, in the input's manager; {@code null} when there is none.
   */
  NDArray delta(int layer, Projection projection, NDArray input, boolean training);
}
