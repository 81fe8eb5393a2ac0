package io.marginal.model.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/** Gradient housekeeping shared by the optimiser and the probes that read gradients. */
public final class Gradients {

  private Gradients() {
  }

  /**
   * Overwrites a gradient with zeros, in place. Not {@code g - g} or {@code g·0}: a NaN or infinite
   * entry survives those, and since PyTorch adds every backward pass to the gradient it would poison
   * every later step of the run.
   */
  public static void clear(NDArray gradient) {
    gradient.set(new NDIndex("..."), 0f);
  }
}
