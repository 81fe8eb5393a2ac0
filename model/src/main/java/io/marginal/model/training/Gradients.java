package io.marginal.model.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
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

  /**
   * Replaces NaN and infinite entries of a gradient by 0, in place, and returns the sum of squares of the
   * result. In place through an index-put, never {@code NDArray.set(float[])}: on the PyTorch CPU engine
   * that makes the tensor's storage the Java buffer, which is freed once the (temporary) gradient handle
   * is closed — the next backward pass then writes into freed memory.
   */
  public static double zeroNonFinite(NDArray gradient) {
    try (NDManager scratch = gradient.getManager().newSubManager()) {
      NDArray g = gradient.duplicate();
      g.attach(scratch);
      NDArray bad = g.isNaN().logicalOr(g.isInfinite());
      NDArray cleaned = NDArrays.where(bad, g.zerosLike(), g);
      gradient.set(new NDIndex("..."), cleaned);
      return cleaned.square().sum().getFloat();
    }
  }
}
