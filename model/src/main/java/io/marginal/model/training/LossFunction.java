package io.marginal.model.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Builds a scalar loss inside a training step; everything it creates goes in {@code step}. */
@FunctionalInterface
public interface LossFunction {
  NDArray compute(NDManager step);
}
